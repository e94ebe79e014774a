"""Scheduled ingestion: one Prefect deployment per source with a schedule, served in-process.

``broadsheet serve`` builds a deployment of the ``ingest`` flow for every enabled source of the
sources file that has a ``schedule`` (cron or interval), tagged with the source's name, with a
concurrency limit of one so two runs of a source never overlap, and serves them until SIGTERM or
SIGINT. A global concurrency limit of one on warehouse loads keeps the runs of different sources
from writing the DuckDB file at the same time. The same deployments run on work pools through ``prefect.yaml``.
"""

from __future__ import annotations

import re
from typing import Any

from broadsheet.config.errors import ConfigError
from broadsheet.config.sources import SourceConfig, parse_schedule


def deployment_name(source: SourceConfig) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", source.name.lower()).strip("-")
    return f"ingest-{slug or 'source'}"


def deployment_options(source: SourceConfig) -> dict[str, Any]:
    """Keyword arguments of ``ingest_flow.to_deployment`` for one scheduled source."""
    if not source.schedule:
        raise ConfigError(f"source {source.name!r} has no schedule")
    schedule = parse_schedule(source.schedule)
    timing: dict[str, Any] = ({"cron": schedule.cron} if schedule.cron
                              else {"interval": schedule.interval_seconds})
    return {
        "name": deployment_name(source),
        **timing,
        "parameters": {"sources": [source.model_dump(mode="json")]},
        "tags": ["broadsheet", f"source:{source.name}"],
        "concurrency_limit": 1,
        "description": f"Ingest {source.kind} source {source.name!r} from {source.location}",
    }


def scheduled_sources(sources: list[SourceConfig]) -> list[SourceConfig]:
    chosen = [s for s in sources if s.enabled and s.schedule]
    if not chosen:
        raise ConfigError("no enabled source has a schedule: add `schedule = \"15m\"` (or a cron expression) "
                          "to a [[sources]] table")
    return chosen


def ensure_writer_limit() -> None:
    """A global concurrency limit of one on warehouse loads, so scheduled runs take turns writing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    from broadsheet.tasks.batch import WAREHOUSE_WRITER_LIMIT

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WAREHOUSE_WRITER_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=WAREHOUSE_WRITER_LIMIT, limit=1))


def serve_sources(sources: list[SourceConfig]) -> None:
    """Serve a deployment per scheduled source until SIGTERM or SIGINT."""
    from prefect import serve

    from broadsheet.flows.ingest import ingest_flow

    ensure_writer_limit()
    deployments = [ingest_flow.to_deployment(**deployment_options(s)) for s in scheduled_sources(sources)]
    serve(*deployments, print_starting_message=False)
