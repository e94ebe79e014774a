"""What every ``broadsheet`` command shares: its common options and how it reads settings.

The commands live in :mod:`.cli` (running the pipeline and querying) and :mod:`.cli_inspect` (looking at
sources, one article, or what extraction would store); both build on this module.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from broadsheet.config.errors import BroadsheetError, WarehouseError
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import Settings, load_settings
from broadsheet.flows.output import OutputFormat, error

DbOption = Annotated[Path | None, typer.Option("--db", help="Warehouse file (default: warehouse.path, "
                                                            "data/broadsheet.duckdb).")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="Settings TOML read over the defaults "
                                                                    "(default: ./broadsheet.toml if present).")]
FormatOption = Annotated[OutputFormat, typer.Option(
    "--format", "-f", help="table (for people), or the machine format: json, jsonl or csv (docs/cli.md).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (for cron).")]


def chosen_format(output: OutputFormat, as_json: bool) -> OutputFormat:
    return OutputFormat.json if as_json else output


def settings_from(config: Path | None, db: Path | None, **sections: dict[str, Any]) -> Settings:
    """Settings with command-line values (highest precedence) merged over TOML and environment."""
    overrides: dict[str, dict[str, Any]] = {key: value for key, value in sections.items() if value}
    if db is not None:
        overrides["warehouse"] = {"path": db}
    return load_settings(config, **overrides)


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Around a command's flow run: SIGINT or SIGTERM stop the run cleanly (:mod:`.interrupt`: recorded
    ``interrupted``, workers and temporary Prefect server stopped), then the process exits at once with
    128 + the signal's number (130, 143). Call it after the command has set up logging (it imports Prefect)."""
    from broadsheet.flows.interrupt import exit_code, exit_now, received, stopping_on_signals

    with stopping_on_signals():
        try:
            yield
        except BaseException as exc:
            signum = received()
            if signum is None:
                raise
            if isinstance(exc, BroadsheetError):  # what else went wrong as the run stopped
                error(exc.message)
            error(f"stopped by {signal.Signals(signum).name}: the run is recorded as interrupted; what it "
                  "loaded stays, and the same command run again goes on from there")
            exit_now(exit_code(signum))


def retry_locked(action: Any, wait: float = 10.0) -> Any:
    """``action()``, tried again every quarter second for up to ``wait`` seconds while the warehouse is locked."""
    return retry_transient(action, wait, delay=0.25, kind=WarehouseError)
