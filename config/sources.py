"""Source declarations: what to ingest, read from ``sources.toml`` or given on the command line.

A source has a ``kind`` (``feed``, ``page``, ``urls``, ``folder``, or ``auto`` to recognise it),
a ``location`` (URL or path) and a ``name`` that rows in the warehouse refer to.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broadsheet.config.errors import ConfigError

SourceKind = Literal["auto", "feed", "page", "urls", "folder"]
SOURCE_KINDS: tuple[str, ...] = ("auto", "feed", "page", "urls", "folder")


class SourceConfig(BaseModel):
    """One configured source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="Stable name; rows refer to it.")
    location: str = Field(min_length=1, description="Feed or page URL, URL-list file, or folder.")
    kind: SourceKind = Field("auto", description="What the location is; auto recognises it.")
    schedule: str | None = Field(None, description="Cron expression or interval for scheduled runs.")
    enabled: bool = Field(True, description="Disabled sources are skipped by scheduled runs.")


def source_from_argument(location: str, kind: SourceKind = "auto") -> SourceConfig:
    """A source given on the command line; its name is its location."""
    return SourceConfig(name=location, location=location, kind=kind)


def load_sources(path: Path) -> list[SourceConfig]:
    """Sources declared as ``[[sources]]`` tables in a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"sources file {path} is not valid TOML: {exc}") from exc
    try:
        sources = [SourceConfig.model_validate(entry) for entry in data.get("sources", [])]
    except ValidationError as exc:
        raise ConfigError(f"invalid source in {path}: {exc}") from exc
    names = [source.name for source in sources]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ConfigError(f"source names must be unique in {path}; repeated: {', '.join(duplicated)}")
    return sources
