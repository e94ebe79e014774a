"""The ``broadsheet`` command line: ingest, query, search, explore, stats, demo, server and serve.

Commands only parse arguments, call library functions and print. Exit codes scripts can rely on:
0 success, 1 unexpected failure, 2 bad usage or settings, 3 warehouse unavailable (missing or
locked), 4 an ingest could not read one of its sources at all. ``--json`` prints machine-readable
output; ``--quiet`` prints nothing but errors. Library log lines and Python warnings are shown only with
``broadsheet --verbose COMMAND``; ``serve`` always shows its runs' log lines (they are its output).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import sys
import warnings
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from broadsheet.config.errors import BroadsheetError, ConfigError, WarehouseError
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import (
    DEFAULT_SOURCES_FILE,
    Settings,
    apply_process_environment,
    load_settings,
    prefect_api_url,
)
from broadsheet.config.sources import SOURCE_KINDS, SourceConfig, SourceKind, load_sources, source_from_argument
from broadsheet.tasks.fetch import is_url

app = typer.Typer(
    help="broadsheet: turn news on the web into an analytical DuckDB warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXIT_FAILURE, EXIT_USAGE, EXIT_WAREHOUSE, EXIT_SOURCE_FAILED = 1, 2, 3, 4

DbOption = Annotated[Path | None, typer.Option("--db", help="Warehouse file (default: warehouse.path, "
                                                            "data/broadsheet.duckdb).")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="Settings TOML read over the defaults "
                                                                    "(default: ./broadsheet.toml if present).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (for cron).")]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(config: Path | None, db: Path | None, **sections: dict[str, Any]) -> Settings:
    """Settings with command-line values (highest precedence) merged over TOML and environment."""
    overrides: dict[str, dict[str, Any]] = {key: value for key, value in sections.items() if value}
    if db is not None:
        overrides["warehouse"] = {"path": db}
    return load_settings(config, **overrides)


_verbose = False


@app.callback()
def _global_options(verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also show library log lines (Prefect, trafilatura) and Python warnings.")] = False,
) -> None:
    global _verbose
    _verbose = verbose
    if not verbose:
        warnings.simplefilter("ignore")
        os.environ.setdefault("PYTHONWARNINGS", "ignore")  # the worker processes too


def _quiet_logging(quiet: bool) -> None:
    """Library log lines at errors only, unless ``--verbose`` (before prefect is imported)."""
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    if quiet or not _verbose:
        apply_process_environment(quiet=True)
        for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).setLevel(logging.ERROR)


@app.command()
def ingest(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Feed URL, page URL, file listing URLs, or folder of .html/.html.gz/.txt files. "
             "None: the sources in --sources (default config/sources.toml).", show_default=False)] = None,
    kind: Annotated[str, typer.Option(help=f"Force the kind of every SOURCE: {', '.join(SOURCE_KINDS)}.")] = "auto",
    sources_file: Annotated[Path | None, typer.Option("--sources", help="Sources TOML to read when no SOURCE "
                                                                         "is given.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Documents per batch (pipeline.batch_size).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Discover, fetch, extract, tag and load articles from SOURCEs into the warehouse."""
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}")
    settings = _settings(config, db, pipeline={} if batch_size is None else {"batch_size": batch_size})
    chosen = _chosen_sources(sources or [], kind, sources_file or settings.pipeline.sources_file)  # type: ignore[arg-type]
    summary = _run_ingest(chosen, settings, quiet or as_json)
    if as_json:
        out.print_json(json.dumps(summary.to_dict()))
    elif not quiet:
        _print_summary(summary)
    if summary.failed_sources:
        err.print(f"[red]error:[/red] could not read source(s) {', '.join(summary.failed_sources)}: "
                  "see the rejections above (stage discover)")
        raise typer.Exit(EXIT_SOURCE_FAILED)


def _chosen_sources(arguments: list[str], kind: SourceKind, sources_file: Path | None) -> list[SourceConfig]:
    if arguments:
        missing = [a for a in arguments if not is_url(a) and not Path(a).expanduser().exists()]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: neither an http(s) URL nor an existing file or folder")
        return [source_from_argument(location, kind) for location in arguments]
    path = sources_file or DEFAULT_SOURCES_FILE
    declared = [s for s in load_sources(path) if s.enabled]
    if not declared:
        raise ConfigError(f"no SOURCE given and no enabled [[sources]] in {path}: "
                          "pass a feed URL, page URL, URL file or folder, or declare sources")
    return declared


def _run_ingest(sources: list[SourceConfig], settings: Settings, quiet: bool) -> Any:
    """:func:`~broadsheet.flows.ingest.run_ingest`, with a progress bar unless quiet."""
    _quiet_logging(quiet)  # before prefect is imported
    from broadsheet.flows.ingest import run_ingest

    if quiet:
        return run_ingest(sources, settings)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("ingesting", total=None)

        def show(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        return run_ingest(sources, settings, on_progress=show)


def _print_summary(summary: Any, warehouse: bool = True) -> None:
    out.print(f"Run {summary.run_id}", markup=False)
    table = Table(show_header=True)
    table.add_column("stage")
    table.add_column("documents", justify="right")
    for stage, value in vars(summary.counts).items():
        table.add_row(stage, str(value))
    out.print(table)
    for reason, count in summary.rejections.items():
        out.print(f"  rejected {reason}: {count} (e.g. {summary.examples[reason]})")
    if summary.pending_batches:
        out.print(f"[yellow]{summary.pending_batches} batch(es) staged, not loaded: the warehouse was locked; "
                  "the next run loads them[/yellow]")
    for warning in summary.warnings:
        out.print(f"[yellow]warning: {warning}[/yellow]")
    if warehouse:
        out.print(f"Warehouse: {summary.warehouse}")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run, read-only (SELECT, DESCRIBE, SHOW ...).")],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")] = OutputFormat.table,
    wait: Annotated[float, typer.Option(help="Seconds to keep retrying while a load holds the warehouse.")] = 10.0,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Run SQL against the warehouse, opened read-only, and print the result."""
    settings = _settings(config, db)
    from broadsheet.warehouse.reports import run_query

    columns, rows = _retry_locked(lambda: run_query(settings.warehouse, sql), wait)
    _print_rows(columns, rows, output)


def _retry_locked(action: Any, wait: float) -> Any:
    """``action()``, tried again every quarter second for up to ``wait`` seconds while the warehouse is locked."""
    return retry_transient(action, wait, delay=0.25, kind=WarehouseError)


def _print_rows(columns: list[str], rows: list[tuple], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str,
                                    ensure_ascii=False) + "\n")
    elif output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*("" if value is None else str(value) for value in row))
        out.print(table)


class SearchMode(StrEnum):
    text = "text"
    semantic = "semantic"


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What to look for: words (BM25 over title and text) or a "
                                             "description (--mode semantic).")],
    mode: Annotated[SearchMode, typer.Option(help="text (BM25 full-text) or semantic (embeddings).")]
    = SearchMode.text,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Articles dated on or after "
                                                                              "this day.")] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Articles dated on or before "
                                                                              "this day.")] = None,
    source: Annotated[str | None, typer.Option(help="Only articles of this source.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only articles naming this entity (name or id).")] = None,
    topic: Annotated[str | None, typer.Option(help="Only articles with this topic (id or label).")] = None,
    limit: Annotated[int, typer.Option(help="Results shown at most.", min=1, max=1000)] = 10,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")] = OutputFormat.table,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Search the latest article versions by words (BM25) or meaning (embeddings), with filters."""
    settings = _settings(config, db)
    from broadsheet.flows.search import run_search
    from broadsheet.warehouse.search import SearchFilters

    filters = SearchFilters(since.date() if since else None, until.date() if until else None, source, entity, topic)
    hits = _retry_locked(lambda: run_search(settings, text, mode.value, filters, limit), 10.0)
    columns = ["score", "article_date", "source_id", "title", "canonical_url", "article_id"]
    _print_rows(columns, [(round(h.score, 4), h.article_date, h.source_id, h.title, h.canonical_url, h.article_id)
                          for h in hits], output)


@app.command()
def explore(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 to serve on (0 picks a free one).",
                                      min=0, max=65535)] = 8150,
    wait: Annotated[float, typer.Option(help="Seconds a request keeps retrying while a load holds the warehouse "
                                             "before the page says it is busy.")] = 5.0,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve a read-only web explorer of the warehouse on 127.0.0.1: search, charts, map, entities, sources."""
    settings = _settings(config, db)
    from broadsheet.flows.explore import serve_explorer
    from broadsheet.warehouse.connection import warehouse_exists

    if not warehouse_exists(settings.warehouse):
        raise WarehouseError(f"no warehouse at {settings.warehouse.path}: run `broadsheet ingest` first or pass --db")
    serve_explorer(settings, port, wait, lambda url: out.print(
        f"Exploring {settings.warehouse.path} at {url} (read-only). Stop with Ctrl-C.", markup=False))


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write the Parquet files into (created if missing).")],
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the warehouse as Parquet, article tables partitioned by date, for other tools."""
    settings = _settings(config, db)
    from broadsheet.warehouse.connection import connect
    from broadsheet.warehouse.export import export_parquet

    with contextlib.closing(_retry_locked(lambda: connect(settings.warehouse, read_only=True), 10.0)) as conn:
        result = export_parquet(conn, folder)
    if as_json:
        sys.stdout.write(json.dumps({"folder": str(result.folder), "rows": result.rows}) + "\n")
    else:
        out.print(f"Exported to {result.folder}: " + ", ".join(f"{t} {n}" for t, n in result.rows.items()))


@app.command()
def stats(db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Summarise the warehouse: rows per table, top entities, top topics, rejections, last runs."""
    settings = _settings(config, db)
    from broadsheet.warehouse.reports import warehouse_report

    report = _retry_locked(lambda: warehouse_report(settings.warehouse), 10.0)
    if as_json:
        sys.stdout.write(json.dumps(report, default=str, ensure_ascii=False) + "\n")
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    out.print(f"[bold]Warehouse[/bold] {report['warehouse']}")
    out.print("  " + ", ".join(f"{table} {count}" for table, count in report["tables"].items()))
    for title, key in (("Top entities", "top_entities"), ("Top topics", "top_topics"),
                       ("Rejections", "rejections"), ("Last runs", "runs")):
        rows = report[key]
        if not rows:
            continue
        table = Table(*rows[0].keys(), title=title, title_justify="left")
        for row in rows:
            table.add_row(*(_cell(key, value) for key, value in row.items()))
        out.print(table)


def _cell(column: str, value: Any) -> str:
    """A report value as a table shows it in 80 columns: times to the minute, run ids by their first part."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if column == "run_id":
        return str(value).split("-", 1)[0]
    return str(value)


@app.command()
def demo(db: DbOption = None, config: ConfigOption = None, as_json: JsonOption = False,
         quiet: QuietOption = False) -> None:
    """Serve a small news site on 127.0.0.1, ingest its RSS feed, and summarise the warehouse."""
    settings = _settings(config, db, http={"allow_private_addresses": True})
    from broadsheet.flows.demo import demo_site
    from broadsheet.warehouse.reports import warehouse_report

    with demo_site() as feed_url:
        if not quiet and not as_json:
            out.print(f"Demo news site: {feed_url}\nIngesting into {settings.warehouse.path}", markup=False)
        summary = _run_ingest([SourceConfig(name="demo", location=feed_url, kind="feed")], settings,
                              quiet or as_json)
    report = warehouse_report(settings.warehouse)
    if as_json:
        sys.stdout.write(json.dumps({"run": summary.to_dict(), "warehouse": report}, default=str) + "\n")
    elif not quiet:
        _print_summary(summary, warehouse=False)
        _print_report(report)


@app.command()
def reenrich(
    limit: Annotated[int | None, typer.Option(help="Re-enrich at most N stale articles (oldest first).",
                                              min=1)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count the stale articles.")] = False,
    batch_size: Annotated[int | None, typer.Option(help="Articles per batch (pipeline.batch_size).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Re-enrich stored articles tagged by older models, rules or taxonomy, from their stored text."""
    settings = _settings(config, db, pipeline={} if batch_size is None else {"batch_size": batch_size})
    from broadsheet.warehouse.connection import warehouse_exists

    if not warehouse_exists(settings.warehouse):
        raise WarehouseError(f"no warehouse at {settings.warehouse.path}: run `broadsheet ingest` first")
    _quiet_logging(quiet or as_json)
    from broadsheet.flows.reenrich import reenrich_flow

    summary = reenrich_flow(settings, limit, dry_run)
    if as_json:
        sys.stdout.write(json.dumps(summary.to_dict()) + "\n")
    elif not quiet:
        verb = "stale (dry run)" if dry_run else f"stale, {summary.enriched} re-enriched"
        out.print(f"{summary.stale} article(s) {verb} in {summary.warehouse}")


@app.command()
def server(
    port: Annotated[int | None, typer.Option(help="Port to listen on (server.port, default 4200).")] = None,
    config: ConfigOption = None,
) -> None:
    """Start a local Prefect server (UI and run history) and keep it running until Ctrl-C."""
    settings = _settings(config, None, server={} if port is None else {"port": port})
    from broadsheet.flows.prefect_server import serve_until_stopped, start_server

    process = start_server(settings.server, settings.server.port)
    out.print(f"Prefect server running: UI http://127.0.0.1:{settings.server.port}  "
              f"API http://127.0.0.1:{settings.server.port}/api")
    out.print("broadsheet commands in this folder now report to it. Stop with Ctrl-C.")
    serve_until_stopped(settings.server, process)


@app.command()
def serve(
    sources_file: Annotated[Path | None, typer.Option("--sources", help="Sources TOML whose scheduled sources "
                                                                         "are served.")] = None,
    config: ConfigOption = None,
) -> None:
    """Run every scheduled source on its schedule (Prefect deployments) until SIGTERM or Ctrl-C."""
    settings = _settings(config, None)
    path = sources_file or settings.pipeline.sources_file or DEFAULT_SOURCES_FILE
    sources = load_sources(path)
    from broadsheet.flows.prefect_server import use_running_server
    from broadsheet.flows.schedule import scheduled_sources, serve_sources

    url = use_running_server(settings.server)

    chosen = scheduled_sources(sources)
    out.print(f"Serving {len(chosen)} scheduled source(s) from {path} "
              f"({'Prefect API ' + url if url else 'no Prefect server found: start `broadsheet server` to see runs'}).")
    serve_sources(chosen)


def main() -> None:
    """Entry point of the ``broadsheet`` console script."""
    apply_process_environment()
    try:
        app()
    except WarehouseError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(EXIT_WAREHOUSE)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(EXIT_USAGE)
    except BroadsheetError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(EXIT_FAILURE)
    except Exception as exc:
        if not _lost_prefect_api(exc):
            raise
        err.print(f"[red]error:[/red] lost the Prefect API at {prefect_api_url()} during the run ({exc}). "
                  "The warehouse holds only whole batches; start the server again (or unset PREFECT_API_URL) "
                  "and run the same command again: it picks up where this run stopped.")
        sys.exit(EXIT_FAILURE)


def _lost_prefect_api(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) comes from a Prefect API that stopped answering."""
    import httpx

    seen: BaseException | None = exc
    while seen is not None:
        # Prefect wraps the client's connection errors (httpx, httpcore) in its own private classes.
        if isinstance(seen, httpx.TransportError) or type(seen).__module__.startswith("httpcore") or \
                type(seen).__name__ == "ConcurrencySlotAcquisitionError":
            return prefect_api_url() is not None
        seen = seen.__cause__ or seen.__context__
    return False


if __name__ == "__main__":
    main()
