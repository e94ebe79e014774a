"""The ``ingest`` flow: discover, fetch, extract (dropping known articles), enrich, stage and load, batch by batch.

The flow only orchestrates: every step is a task from :mod:`broadsheet.tasks.batch` working on a
whole batch. It records the run in ``runs``, and ends with a markdown artifact that counts each
stage and lists rejections by reason, visible in the Prefect UI. :func:`run_ingest` runs it with its
runtime set up (workers, Prefect's server, task runner, tags): the CLI, the demo and scripts call that.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

import duckdb
from prefect import flow, runtime, tags
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.states import Completed, State

from broadsheet.config.records import Batch, Candidate, Discovery, Rejection
from broadsheet.config.settings import Settings, load_settings
from broadsheet.config.sources import SourceConfig, settings_for_source
from broadsheet.flows.interrupt import is_interruption
from broadsheet.flows.prefect_server import prefect_api
from broadsheet.flows.report import RunSummary, health_markdown, source_health, summarise, summary_markdown
from broadsheet.flows.run_record import in_warehouse, recorded_run
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
from broadsheet.warehouse.fetch_history import seen_urls
from broadsheet.warehouse.runs import RunCounts, record_sources, record_topics


def run_ingest(sources: list[SourceConfig], settings: Settings,
               on_progress: progress.Reporter | None = None) -> RunSummary:
    """Run :func:`ingest_flow` over ``sources`` with its runtime set up, and return its summary.

    Sends the run to the API Prefect is pointed at (PREFECT_API_URL, a profile), else to the server
    ``broadsheet server`` started, else to a temporary Prefect server (the one the CLI started before
    importing prefect, so it starts meanwhile, else one started now; it ends with this process, even a
    killed one); runs the flow on the task runner ``pipeline.task_runner`` chooses, tagged ``broadsheet``
    and ``source:<name>``; stops the worker processes the flow started, and the temporary server, at the
    end. ``on_progress(stage, finished, expected)`` hears how many documents each stage expects and
    finishes (:mod:`broadsheet.tasks.progress`).
    Workers are spawned, so a script calling this must do so under ``if __name__ == "__main__":``.
    """
    interrupted = False
    try:
        with prefect_api(settings.server) as api_ready:
            ingest = with_task_runner(ingest_flow, settings.pipeline)
            api_ready()
            with tags("broadsheet", *(f"source:{s.name}" for s in sources)):
                if on_progress is None:
                    return ingest(sources, settings)  # type: ignore[no-any-return]
                with progress.reporting(on_progress):
                    return ingest(sources, settings)  # type: ignore[no-any-return]
    except BaseException as exc:
        interrupted = is_interruption(exc)
        raise
    finally:
        if interrupted:
            workers.terminate()  # their jobs belong to batches the run abandons
        else:
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
    rejections: list[Rejection] = []
    parameters = {"sources": [s.location for s in sources], "batch_size": settings.pipeline.batch_size}
    try:
        with recorded_run(settings.warehouse, run_id, flow_run_id, "ingest", parameters,
                          before=lambda conn: _record_config(conn, sources, settings)) as counts:
            pending = 0
            for source in sources:
                source_counts, source_rejections, pending = _ingest_source(source, settings, run_id,
                                                                           len(sources) > 1)
                counts.add(source_counts)
                rejections += source_rejections
            counts.rejected = len(rejections)
    finally:
        warm.detach()  # a scheduled run's jobs went to the warm workers (_start_workers)
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
    health = in_warehouse(settings.warehouse, lambda conn: source_health(conn, summary.run_id))
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
    in_flight: deque[Future[tuple[RunCounts, list[Rejection], int]]] = deque()
    with _batch_threads() as threads:
        for number, chunk in enumerate(chunks, 1):
            first, last = submitted + 1, submitted + len(chunk)
            label = f"{prefix}batch {number}/{len(chunks)} (documents {first}-{last} of {total})"
            context = contextvars.copy_context()  # the flow run's context, so task runs belong to it
            in_flight.append(threads.submit(context.run, _run_batch, chunk, carry, run_id, settings, label))
            carry, submitted = Batch(), submitted + len(chunk)
            while in_flight and (len(in_flight) >= BATCHES_IN_FLIGHT or number == len(chunks)):
                batch_counts, batch_rejections, pending = in_flight.popleft().result()
                counts.add(batch_counts)
                rejections += batch_rejections
                progress.advance("batches", 1)
    return counts, rejections, pending


BATCHES_IN_FLIGHT = 2


@contextlib.contextmanager
def _batch_threads() -> Iterator[ThreadPoolExecutor]:
    """Threads for the batches in flight, waited for when the block ends (a failed batch fails the run once
    the other is done), except when the run is interrupted: then they are left to the process's exit, as
    one may be blocked in a read or a fetch."""
    threads = ThreadPoolExecutor(max_workers=BATCHES_IN_FLIGHT, thread_name_prefix="broadsheet-batch")
    interrupted = False
    try:
        yield threads
    except BaseException as exc:
        interrupted = is_interruption(exc)
        raise
    finally:
        threads.shutdown(wait=not interrupted, cancel_futures=interrupted)


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
               settings: Settings, label: str) -> tuple[RunCounts, list[Rejection], int]:
    """One batch through every stage; task runs are named after the batch they work on. Only its counts and
    rejections outlive it: its page bodies, texts and embeddings are freed once loaded."""
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
    return counts, batch.rejections, loaded.pending


def _record_config(conn: duckdb.DuckDBPyConnection, sources: list[SourceConfig], settings: Settings) -> None:
    from broadsheet.tasks.enrich import taxonomy_for

    record_sources(conn, sources)
    record_topics(conn, taxonomy_for(settings.topics))
