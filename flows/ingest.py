"""The ``ingest`` flow: discover, fetch, extract, drop known, enrich, stage and load, batch by batch.

The flow only orchestrates: every step is a task from :mod:`broadsheet.tasks.batch` working on a
whole batch. It records the run in ``runs``, and ends with a markdown artifact that counts each
stage and lists rejections by reason, visible in the Prefect UI.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from prefect import flow, runtime
from prefect.artifacts import create_markdown_artifact

from broadsheet.config.settings import Settings, load_settings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.batch import (
    discover_task,
    drop_known_task,
    enrich_task,
    extract_task,
    fetch_task,
    load_task,
)
from broadsheet.tasks.discover import Discovery
from broadsheet.tasks.records import Batch, Candidate, Rejection
from broadsheet.tasks.topics import taxonomy_for
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.runs import RunCounts, finish_run, record_sources, record_topics, start_run


@dataclass
class RunSummary:
    """What one ingest run did; also the CLI's ``--json`` output."""

    run_id: str
    warehouse: str
    counts: RunCounts
    rejections: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    pending_batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "warehouse": self.warehouse, "counts": vars(self.counts),
                "rejections": self.rejections, "examples": self.examples,
                "pending_batches": self.pending_batches}


def _chunks(items: list[Candidate], size: int) -> list[list[Candidate]]:
    iterator = iter(items)
    return list(iter(lambda: list(islice(iterator, size)), []))


@flow(name="ingest", flow_run_name="ingest {sources[0].name}")
def ingest_flow(sources: list[SourceConfig], settings: Settings | None = None) -> RunSummary:
    """Ingest every source into the warehouse; failures become rejection rows, never a failed run.

    Without ``settings`` (a scheduled run) they are loaded where the flow runs: defaults, the user
    TOML and ``BROADSHEET_*`` variables of the worker.
    """
    settings = settings or load_settings()
    flow_run_id = runtime.flow_run.id
    run_id = flow_run_id or str(uuid.uuid4())
    _begin(sources, settings, run_id, flow_run_id)
    counts = RunCounts()
    rejections: list[Rejection] = []
    status = "failed"
    try:
        discovery = discover_task(sources, settings)
        counts.discovered = len(discovery.candidates) + len(discovery.pages)
        pending = 0
        carry = _carry(discovery)
        for chunk in _chunks(discovery.candidates, settings.pipeline.batch_size) or [[]]:
            batch_counts, batch, pending = _run_batch(chunk, carry, run_id, settings)
            counts.add(batch_counts)
            rejections += batch.rejections
            carry = Batch()
        counts.rejected = len(rejections)
        status = "completed"
    finally:
        _end(settings.warehouse.path, run_id, status, counts)
    summary = _summarise(run_id, settings.warehouse.path, counts, rejections, pending)
    create_markdown_artifact(summary_markdown(summary), key="ingest-summary",
                             description="Documents per stage and rejections by reason")
    return summary


def _carry(discovery: Discovery) -> Batch:
    """What discovery already produced (pages fetched as sources, requests, failures)."""
    return Batch(pages=list(discovery.pages), fetches=list(discovery.fetches),
                 rejections=list(discovery.rejections))


def _run_batch(candidates: list[Candidate], carry: Batch, run_id: str,
               settings: Settings) -> tuple[RunCounts, Batch, int]:
    fetched = fetch_task(candidates, settings)
    pages = carry.pages + fetched.pages
    articles, extract_rejections = extract_task(pages, settings)
    fresh, duplicates = drop_known_task(articles, settings)
    enrichments = enrich_task(fresh, settings)
    batch = Batch(articles=fresh, enrichments=enrichments, pages=pages,
                  fetches=carry.fetches + fetched.fetches,
                  rejections=carry.rejections + fetched.rejections + extract_rejections)
    loaded = load_task(batch, run_id, settings)
    counts = RunCounts(fetched=len(pages), extracted=len(articles), duplicates=duplicates,
                       enriched=len(enrichments), loaded=loaded.articles)
    return counts, batch, loaded.pending


def _begin(sources: list[SourceConfig], settings: Settings, run_id: str, flow_run_id: str | None) -> None:
    conn = connect(settings.warehouse.path)
    try:
        record_sources(conn, sources)
        record_topics(conn, taxonomy_for(settings.topics))
        start_run(conn, run_id, flow_run_id, "ingest",
                  {"sources": [s.location for s in sources], "batch_size": settings.pipeline.batch_size})
    finally:
        conn.close()


def _end(path: Path, run_id: str, status: str, counts: RunCounts) -> None:
    conn = connect(path)
    try:
        finish_run(conn, run_id, status, counts)
    finally:
        conn.close()


def _summarise(run_id: str, path: Path, counts: RunCounts, rejections: list[Rejection],
               pending: int) -> RunSummary:
    by_reason = Counter(f"{r.stage}/{r.error_type}" for r in rejections)
    examples: dict[str, str] = {}
    for rejection in rejections:
        examples.setdefault(f"{rejection.stage}/{rejection.error_type}", rejection.url)
    return RunSummary(run_id, str(path), counts, dict(by_reason.most_common()), examples, pending)


def summary_markdown(summary: RunSummary) -> str:
    lines = ["# Ingest run", "", f"Warehouse: `{summary.warehouse}`", "",
             "| stage | documents |", "|---|---|"]
    lines += [f"| {stage} | {value} |" for stage, value in vars(summary.counts).items()]
    if summary.pending_batches:
        lines += ["", f"**{summary.pending_batches} batch(es) staged but not loaded**: the warehouse was "
                      "locked; the next run loads them."]
    if summary.rejections:
        lines += ["", "## Rejections", "", "| stage/reason | count | example |", "|---|---|---|"]
        lines += [f"| {reason} | {count} | {summary.examples[reason]} |"
                  for reason, count in summary.rejections.items()]
    return "\n".join(lines) + "\n"
