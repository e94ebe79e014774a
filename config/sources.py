"""Source declarations: what to ingest, read from ``sources.toml`` or given on the command line.

A source has a ``kind`` (``feed``, ``page``, ``urls``, ``folder``, ``sitemap``, ``warc``, or ``auto``
to recognise it), a ``location`` (URL or path) and a ``name`` that rows in the warehouse refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import ExtractSettings, HttpSettings, PipelineSettings, Settings
from broadsheet.config.tomlfile import read_entries

SourceKind = Literal["auto", "feed", "page", "urls", "folder", "sitemap", "warc"]
SOURCE_KINDS: tuple[str, ...] = ("auto", "feed", "page", "urls", "folder", "sitemap", "warc")


class SourceConfig(BaseModel):
    """One configured source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="Stable name; rows refer to it.")
    location: str = Field(min_length=1, description="Feed, sitemap or page URL, URL-list file, sitemap, "
                          "WARC/ARC file, or folder.")
    kind: SourceKind = Field("auto", description="What the location is; auto recognises it.")
    schedule: str | None = Field(
        None, description="When `broadsheet serve` runs it: a cron expression ('*/30 * * * *') or an "
        "interval ('90s', '15m', '2h', '1d').")
    enabled: bool = Field(True, description="Disabled sources are skipped by scheduled runs.")
    http: dict[str, Any] = Field(default_factory=dict, description="Overrides of [http] settings for this "
                                 "source only, e.g. a longer host_delay_seconds or another user_agent.")
    extract: dict[str, Any] = Field(default_factory=dict, description="Overrides of [extract] settings for "
                                    "this source only, e.g. min_text_chars for a site of short items.")
    pipeline: dict[str, Any] = Field(default_factory=dict, description="Overrides of [pipeline] settings "
                                     "for this source only, e.g. batch_size.")

    @field_validator("http", "extract", "pipeline")
    @classmethod
    def _valid_overrides(cls, value: dict[str, Any], info: Any) -> dict[str, Any]:
        section = {"http": HttpSettings, "extract": ExtractSettings, "pipeline": PipelineSettings}[info.field_name]
        unknown = sorted(set(value) - set(section.model_fields))
        if unknown:
            raise ValueError(f"unknown [{info.field_name}] setting(s) {', '.join(unknown)}")
        section.model_validate({**section().model_dump(), **value})
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value


@dataclass(frozen=True)
class Schedule:
    """A source's schedule: exactly one of a cron expression or an interval in seconds."""

    cron: str | None = None
    interval_seconds: int | None = None


_INTERVAL = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(text: str) -> Schedule:
    """An interval like '15m' or a five-field cron expression; ValueError says what is wrong."""
    match = _INTERVAL.match(text)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        if seconds < 10:
            raise ValueError(f"schedule {text!r} is shorter than 10 seconds")
        return Schedule(interval_seconds=seconds)
    try:
        CronSim(text, datetime.now(UTC))
    except (CronSimError, ValueError) as exc:
        raise ValueError(f"schedule {text!r} is neither an interval ('15m', '2h', '1d') nor a valid cron "
                         f"expression: {exc}") from exc
    return Schedule(cron=text.strip())


def settings_for_source(settings: Settings, source: SourceConfig) -> Settings:
    """``settings`` with the source's own [http], [extract] and [pipeline] overrides applied."""
    overrides = {name: values for name, values in
                 (("http", source.http), ("extract", source.extract), ("pipeline", source.pipeline)) if values}
    if not overrides:
        return settings
    data = settings.model_dump()
    for section, values in overrides.items():
        data[section] = {**data[section], **values}
    return Settings.model_validate(data)


def source_from_argument(location: str, kind: SourceKind = "auto") -> SourceConfig:
    """A source given on the command line; its name is its location."""
    return SourceConfig(name=location, location=location, kind=kind)


def load_sources(path: Path) -> list[SourceConfig]:
    """Sources declared as ``[[sources]]`` tables in a TOML file."""
    sources = list(read_entries(path, "sources", SourceConfig, "sources file", "source"))
    names = [source.name for source in sources]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ConfigError(f"source names must be unique in {path}; repeated: {', '.join(duplicated)}")
    return sources
