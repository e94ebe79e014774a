"""Reading the ``[[table]]`` entries of a user's TOML file (sources, topics, alias corrections).

One function turns every way such a file can be wrong (missing, unreadable, not TOML, an entry that
does not validate) into a :class:`ConfigError` that names the file and what to fix.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from broadsheet.config.errors import ConfigError

Entry = TypeVar("Entry", bound=BaseModel)


def read_entries(path: Path, table: str, model: type[Entry], what: str, entry: str) -> tuple[Entry, ...]:
    """The ``[[table]]`` entries of the TOML file at ``path``, each validated as ``model``.

    ``what`` names the file in messages ("sources file"), ``entry`` one of its entries ("source").
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 (byte {exc.start}: {exc.reason}): TOML files are "
                          "UTF-8; save it as UTF-8") from exc
    entries = data.get(table, [])
    if not isinstance(entries, list):
        raise ConfigError(f"{what} {path}: `{table}` must be a list of [[{table}]] tables")
    try:
        return tuple(model.model_validate(item) for item in entries)
    except ValidationError as exc:
        raise ConfigError(f"invalid {entry} in {path}: {exc}") from exc
