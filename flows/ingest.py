"""The ``ingest`` flow: discover, fetch, extract (dropping known articles), enrich, stage and load, batch by batch.

The flow only orchestrates: every step is a task from :mod:`broadsheet.tasks.batch` working on a
whole batch. It records the run in ``runs``, and ends with a markdown artifact that counts each
stage and lists rejections by reason, visible in the Prefect UI. :func:`run_ingest` runs it with its
runtime set up (workers, Prefect's server, task runner, tags): the CLI, the demo and scripts call that.
"""

from __future__ import annotations

import contextvars
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

from prefect import flow, runtime, tags
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.states import Completed, State

from broadsheet.config.records import Batch, Candidate, Discovery, Rejection
from broadsheet.config.settings import Settings, WarehouseSettings, load_settings
from broadsheet.config.sources import SourceConfig, settings_for_source
from broadsheet.flows.prefect_server import start_prefect_api
from broadsheet.flows.report import RunSummary, health_markdown, source_health, summarise, summary_markdown
from broadsheet.flows.runners import with_task_runner
from broadsheet.tasks import progress, warm, workers
from broadsheet.tasks.batch import (
    discover_task,
    enrich_batch,
    extract_task,
    fetch_task,
    load_task,
    run,
)
from broadsheet.warehouse.connection import connected
from broadsheet.warehouse.fetch_history import seen_urls
from broadsheet.warehouse.runs import RunCounts, finish_run, record_sources, record_topics, start_run


def run_ingest(sources: list[SourceConfig], settings: Settings,
               on_progress: progress.Reporter | None = None) -> RunSummary:
    """Run :func:`ingest_flow` over ``sources`` with its runtime set up, and return its summary.

    Sends the run to PREFECT_API_URL's server or the one ``broadsheet server`` started, else to a temporary
    server started in the background (:func:`~broadsheet.flows.prefect_server.start_prefect_api`); runs the
    flow on the task runner ``pipeline.task_runner`` chooses, tagged ``broadsheet`` and ``source:<name>``;
    stops the worker processes the flow started at the end. ``on_progress(stage, finished, expected)`` hears
    how many documents each stage expects and finishes (:mod:`broadsheet.tasks.progress`).
    Workers are spawned, so a script calling this must do so under ``if __name__ == "__main__":``.
    """
    api = start_prefect_api(settings.server)  # the CLI starts it before importing prefect: it starts meanwhile
    try:
        ingest = with_task_runner(ingest_flow, settings.pipeline)
        api.use()
        with tags("broadsheet", *(f"source:{s.name}" for s in sources)):
            if on_progress is None:
                return ingest(sources, settings)  # type: ignore[no-any-return]
            with progress.reporting(on_progress):
                return ingest(sources, settings)  # type: ignore[no-any-return]
    finally:
        workers.shutdown()


def _chunks(items: list[Candidate], size: int) -> list[list[Candidate]]:
    iterator = iter(items)
    return list(iter(lambda: list(islice(iterator, size)), []))


@flow(name="ingest", flow_run_name="ingest {sources[0].name}")
def ingest_flow(sources: list[SourceConfig], settings: Settings | None = None) -> RunSummary:
    """Ingest every source into the warehouse; failures become rejection rows, never a failed run.

    A run with warnings (a source that could not be read at all, a source that drifted) ends in the
    state "Completed with warnings", whose message says why, so it stands out in the UI and to automations;
    calling the flow still returns the summary.

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
        pending = 0
        for source in sources:
            source_counts, source_rejections, pending = _ingest_source(source, settings, run_id, len(sources) > 1)
            counts.add(source_counts)
            rejections += source_rejections
        counts.rejected = len(rejections)
        status = "completed"
    finally:
        warm.detach()
        _end(settings.warehouse, run_id, status, counts)
    summary = summarise(run_id, settings.warehouse.path, counts, rejections, pending,
                        {s.name: s.location for s in sources})
    _publish(summary, settings)
    return _final_state(summary)  # type: ignore[return-value]


WARNINGS_STATE = "Completed with warnings"


def _final_state(summary: RunSummary) -> RunSummary | State[RunSummary]:
    """The summary, as a state named :data:`WARNINGS_STATE` when a source failed or drifted."""
    problems = [f"source {name!r} could not be read: {message}" for name, message in summary.failures.items()]
    problems += summary.warnings
    if not problems:
        return summary
    return Completed(data=summary, name=WARNINGS_STATE, message="; ".join(problems))


def _publish(summary: RunSummary, settings: Settings) -> None:
    """Artifacts for the Prefect UI: the run summary, and source health with drift warnings."""
    with connected(settings.warehouse) as conn:
        health = source_health(conn, summary.run_id)
    summary.warnings = [warning for h in health for warning in h.drift()]
    for name, message in summary.failures.items():
        get_run_logger().error("source %r could not be read at all: %s", name, message)
    for warning in summary.warnings:
        get_run_logger().warning(warning)
    create_markdown_artifact(summary_markdown(summary), key="ingest-summary",
                             description="Documents per stage, warnings, and rejections by reason")
    if health:
        create_markdown_artifact(health_markdown(health), key="source-health",
                                 description="Extraction health per source against its own history")


def _ingest_source(source: SourceConfig, settings: Settings, run_id: str,
                   named: bool) -> tuple[RunCounts, list[Rejection], int]:
    """Discover one source and run its documents batch by batch, with the source's own settings.

    Two batches are in flight at once, each in its own thread: while the worker processes extract and
    enrich one, the other is fetched or loaded, so neither the network nor the warehouse leaves the
    workers idle. Results are taken in batch order; a failed batch fails the run once the other is done.
    """
    settings = settings_for_source(settings, source)
    prefix = f"{source.name} " if named else ""
    discovery = run(discover_task, f"discover {source.name}", [source], settings)
    counts = RunCounts(discovered=len(discovery.candidates) + len(discovery.pages),
                       not_modified=len(discovery.unchanged))
    rejections: list[Rejection] = []
    pending = 0
    carry = _carry(discovery)
    chunks = _chunks(discovery.candidates, settings.pipeline.batch_size) or [[]]
    progress.expect("fetch", len(discovery.candidates) + len(discovery.pages))
    progress.advance("fetch", len(discovery.pages))  # fetched by discovery already
    progress.expect("batches", len(chunks))
    _start_workers(discovery, settings)
    total, submitted = len(discovery.candidates), 0
    in_flight: deque[Future[tuple[RunCounts, Batch, int]]] = deque()
    with ThreadPoolExecutor(max_workers=BATCHES_IN_FLIGHT, thread_name_prefix="broadsheet-batch") as threads:
        for number, chunk in enumerate(chunks, 1):
            first, last = submitted + 1, submitted + len(chunk)
            label = f"{prefix}batch {number}/{len(chunks)} (documents {first}-{last} of {total})"
            context = contextvars.copy_context()  # the flow run's context, so task runs belong to it
            in_flight.append(threads.submit(context.run, _run_batch, chunk, carry, run_id, settings, label))
            carry, submitted = Batch(), submitted + len(chunk)
            while in_flight and (len(in_flight) >= BATCHES_IN_FLIGHT or number == len(chunks)):
                batch_counts, batch, pending = in_flight.popleft().result()
                counts.add(batch_counts)
                rejections += batch.rejections
                progress.advance("batches", 1)
    return counts, rejections, pending


BATCHES_IN_FLIGHT = 2


def _start_workers(discovery: Discovery, settings: Settings) -> None:
    """Workers for a source's documents, their models loading meanwhile unless the warehouse has seen every
    document (a re-run). A scheduled run uses the warm workers its machine shares (:mod:`broadsheet.tasks.warm`);
    another starts its own for more documents than one job per worker (starting them costs seconds of CPU each),
    and extracts and enriches fewer in this process, whose models load only if something is new."""
    urls = [c.url for c in discovery.candidates] + [p.url for p in discovery.pages]
    if not urls or workers.worker_count(settings) < 2:
        return
    models = len(seen_urls(settings.warehouse, urls)) < len(urls)
    if runtime.deployment.id and settings.pipeline.worker_idle_seconds > 0 and warm.attach(settings, models):
        return
    if len(urls) > workers.worker_count(settings) * settings.pipeline.worker_chunk:
        workers.start(settings, models)


def _carry(discovery: Discovery) -> Batch:
    """What discovery already produced (pages fetched as sources, requests, failures)."""
    return Batch(pages=list(discovery.pages), fetches=list(discovery.fetches),
                 rejections=list(discovery.rejections))


def _run_batch(candidates: list[Candidate], carry: Batch, run_id: str,
               settings: Settings, label: str) -> tuple[RunCounts, Batch, int]:
    """One batch through every stage; task runs are named after the batch they work on."""
    fetched = run(fetch_task, f"fetch {label}", candidates, settings)
    pages = carry.pages + fetched.pages
    progress.expect("extract", len(pages))
    fresh, extract_rejections, extracted = run(extract_task, f"extract {label}", pages, settings)
    progress.expect("enrich", len(fresh))
    enriched, enrichments, enrich_rejections = enrich_batch(fresh, settings, label)
    batch = Batch(articles=enriched, enrichments=enrichments, pages=pages,
                  fetches=carry.fetches + fetched.fetches,
                  rejections=carry.rejections + fetched.rejections + extract_rejections + enrich_rejections)
    loaded = run(load_task, f"load {label}", batch, run_id, settings)
    counts = RunCounts(fetched=len(pages), not_modified=len(fetched.not_modified), extracted=extracted,
                       duplicates=extracted - len(fresh), enriched=len(enrichments), loaded=loaded.articles)
    return counts, batch, loaded.pending


def _begin(sources: list[SourceConfig], settings: Settings, run_id: str, flow_run_id: str | None) -> None:
    from broadsheet.tasks.enrich import taxonomy_for

    with connected(settings.warehouse) as conn:
        record_sources(conn, sources)
        record_topics(conn, taxonomy_for(settings.topics))
        start_run(conn, run_id, flow_run_id, "ingest",
                  {"sources": [s.location for s in sources], "batch_size": settings.pipeline.batch_size})


def _end(target: WarehouseSettings, run_id: str, status: str, counts: RunCounts) -> None:
    with connected(target) as conn:
        finish_run(conn, run_id, status, counts)
