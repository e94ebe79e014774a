"""Thin Prefect tasks over the pure stage functions, one task run per batch of documents.

Prefect costs milliseconds per task run, so every task takes a whole batch. Inputs are not
hashed for caching (pages are large and every run wants fresh work). Only the load task retries,
and only while the warehouse is locked: every other failure is already a rejection row.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task, runtime, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.context import TagsContext
from prefect.logging import get_run_logger
from prefect.utilities.annotations import quote

from broadsheet.config.errors import WarehouseError
from broadsheet.config.records import Article, Batch, Candidate, Discovery, Enrichment, Page, Rejection
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import DedupSettings, Settings, WarehouseSettings
from broadsheet.config.sources import SourceConfig, settings_for_source
from broadsheet.tasks import progress, workers
from broadsheet.tasks.discover import DiscoverContext, discover_source, select_candidates
from broadsheet.tasks.fetch import FetchOutcome, FetchState, fetch_pages, require_html
from broadsheet.warehouse.connection import Target, connected, local_path, warehouse_exists
from broadsheet.warehouse.enrichments import read_articles
from broadsheet.warehouse.fetch_history import read_validators, seen_urls, validator_lookup
from broadsheet.warehouse.loading import LoadResult, load_staged
from broadsheet.warehouse.runs import known_article_ids
from broadsheet.warehouse.staging import stage_batch, staged_batches, staging_dir
from broadsheet.warehouse.stored_pages import StoredPage, read_stored_pages, stale_extraction_ids

# One per process: the spacing of requests per host and each site's robots.txt carry over from batch
# to batch (and run to run), so a batch boundary never lets a host be asked sooner than allowed.
FETCH_STATE = FetchState()


def fetch_state() -> FetchState:
    """This process's FETCH_STATE. Tasks call this rather than naming the object, so a flow shipped to
    Dask workers (pickled with its tasks' globals) never tries to pickle the state's locks."""
    return FETCH_STATE


WAREHOUSE_WRITER_LIMIT = "broadsheet-warehouse-writer"
Result = TypeVar("Result")


def run(stage: Task[Any, Result], name: str, *args: object) -> Result:
    """``stage`` as a task run called ``name``, in this thread.

    The arguments are quoted: Prefect would otherwise walk every page, article and mention of a batch,
    twice per task run, looking for futures to wait on. Stages are never given futures."""
    with untagged():
        return stage.with_options(task_run_name=name)(*(quote(arg) for arg in args))


def untagged() -> TagsContext:
    """A context in which task runs carry no tags (the flow run keeps its own).

    Prefect asks its API for a concurrency slot per tag around every tagged task run (two round trips
    each), which stalls the run. Runs are tagged by source for finding them in the UI: the flow run is
    enough."""
    return TagsContext(current_tags=set())

# The flow runs two batches at once (one fetching or loading while the workers process the other).
# Within this process they take turns at the network (so the [http] limits hold across batches) and at
# loading (one writer at a time: loads must not interleave). Reads (validators, known articles) go through
# ``connect_reader`` and never wait for a load.
FETCH_TURN = threading.Lock()
WAREHOUSE_TURN = threading.RLock()


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(sources: list[SourceConfig], settings: Settings) -> Discovery:
    found = Discovery()
    windowed = settings.discover.since is not None or settings.discover.limit is not None
    context = DiscoverContext(settings.http, settings.discover, fetch_state())
    if not windowed:  # a windowed run reads its sources even unchanged: the rest of a big sitemap waits in them
        context.validators = validator_lookup(settings.warehouse)
    for source in sources:
        found.extend(discover_source(source, settings.http, context=context))
    get_run_logger().info("discovered %d candidates and %d pages from %d sources",
                          len(found.candidates), len(found.pages), len(sources))
    if windowed:
        window = select_candidates(found.candidates, settings.discover,
                                   lambda urls: seen_urls(settings.warehouse, urls))
        found.candidates = window.candidates
        get_run_logger().info(window.describe())
    return found


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_task(candidates: list[Candidate], settings: Settings) -> FetchOutcome:
    """Fetch a batch, conditionally where the warehouse has validators from an earlier fetch."""
    validators = read_validators(settings.warehouse, [c.url for c in candidates if c.archive is None])
    with FETCH_TURN:
        outcome = fetch_pages(candidates, settings.http, validators=validators, state=fetch_state())
    progress.advance("fetch", len(candidates))
    return outcome


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(pages: list[Page], settings: Settings) -> tuple[list[Article], list[Rejection], int]:
    """Extract a batch over the worker processes: the articles new to the warehouse (and to the batch),
    the rejections, and how many articles were extracted in all."""
    html_pages, not_html = require_html(pages)
    progress.advance("extract", len(not_html))
    articles, rejected = workers.extract_pages(html_pages, settings)
    return drop_known(articles, settings.warehouse), not_html + rejected, len(articles)


def drop_known(articles: list[Article], target: Target) -> list[Article]:
    """``articles`` without those the warehouse holds or that came earlier in the list."""
    unique = list({a.article_id: a for a in articles}.values())
    if not warehouse_exists(target):
        return unique
    with connected(target, reader=True) as conn:  # not waiting for the other batch's load
        known = known_article_ids(conn, [a.article_id for a in unique])
    return [a for a in unique if a.article_id not in known]


@task(name="enrich", cache_policy=NO_CACHE)
def enrich_task(articles: list[Article], settings: Settings) -> Enriched:
    """Enrich a batch over the worker processes; an article that kills its worker twice is rejected."""
    return workers.enrich(articles, settings)


Enriched = tuple[list[Article], list[Enrichment], list[Rejection]]


def enrich_batch(articles: list[Article], settings: Settings, label: str) -> Enriched:
    """Enrich a batch: over this process's workers, or (``pipeline.task_runner = "dask"``) split over Dask's."""
    parts = settings.pipeline.dask_workers if settings.pipeline.task_runner == "dask" else 1
    if parts < 2 or len(articles) < 2:
        return run(enrich_task, f"enrich {label}", articles, settings)
    size = -(-len(articles) // parts)
    chunks = [articles[i:i + size] for i in range(0, len(articles), size)]
    alone = settings.model_copy(update={"pipeline": settings.pipeline.model_copy(update={"workers": 1})})
    # Each Dask worker is one process: no pool of its own. Arguments are not quoted here: Dask takes a quote
    # (a tuple) for a task of its own graph.
    with untagged():
        futures = [enrich_task.with_options(task_run_name=f"enrich {label} part {n}/{len(chunks)}").submit(chunk, alone)
                   for n, chunk in enumerate(chunks, 1)]
    results = [future.result() for future in futures]
    progress.advance("enrich", len(articles))  # Dask's workers report to no one here
    return ([a for r in results for a in r[0]], [e for r in results for e in r[1]], [j for r in results for j in r[2]])


@task(name="find-stale", cache_policy=NO_CACHE)
def stale_articles_task(settings: Settings, max_articles: int | None = None) -> list[str]:
    from broadsheet.tasks.enrich import stale_articles  # the enrichers' code: an ingest's flow process rarely needs it

    return stale_articles(settings, max_articles)


@task(name="read-articles", cache_policy=NO_CACHE)
def read_articles_task(article_ids: list[str], settings: Settings) -> list[Article]:
    """Stored articles rebuilt from the warehouse (no fetch, no extraction)."""
    with connected(settings.warehouse) as conn:
        return read_articles(conn, article_ids)


@task(name="find-stale-extractions", cache_policy=NO_CACHE)
def stale_extractions_task(settings: Settings, max_articles: int | None = None,
                           sources: list[SourceConfig] | None = None) -> list[str]:
    """Ids of stored articles made by another extractor (release, settings, URL rules) than the current one,
    which for a source with [extract] overrides of its own is made with them."""
    from broadsheet.tasks.extract import extractor_version  # trafilatura: an ingest's flow process may not need it

    per_source = {source.name: extractor_version(settings_for_source(settings, source).extract)
                  for source in sources or [] if source.extract}
    with connected(settings.warehouse) as conn:
        return stale_extraction_ids(conn, extractor_version(settings.extract), max_articles, per_source)


@task(name="read-pages", cache_policy=NO_CACHE)
def read_pages_task(article_ids: list[str], settings: Settings) -> list[StoredPage]:
    """Stored articles with the pages they came from, read from the page archive (no fetch)."""
    with connected(settings.warehouse) as conn:
        return read_stored_pages(conn, article_ids)


@task(name="reextract", cache_policy=NO_CACHE)
def reextract_task(pages: list[Page], settings: Settings,
                   sources: list[SourceConfig] | None = None) -> tuple[list[Article], list[Rejection]]:
    """Extract stored pages again over the worker processes, each with its source's settings (known articles
    are not dropped: they are replaced)."""
    own = {s.name: s for s in sources or [] if s.extract}
    articles: list[Article] = []
    rejections: list[Rejection] = []
    for name in dict.fromkeys(p.source for p in pages):
        chosen = settings_for_source(settings, own[name]) if name in own else settings
        extracted, rejected = workers.extract_pages([p for p in pages if p.source == name], chosen)
        articles += extracted
        rejections += rejected
    return articles, rejections


@task(name="load", cache_policy=NO_CACHE)
def load_task(batch: Batch, run_id: str, settings: Settings) -> LoadResult:
    """Stage the batch, then load everything staged; a batch that cannot load now stays staged."""
    folder = staging_dir(local_path(settings.warehouse))
    stage_batch(batch, run_id, folder)  # a folder of its own, appearing atomically: no turn needed
    # One writer at a time: `broadsheet serve` creates this limit on its server for the runs it schedules
    # (deployment runs). Elsewhere DuckDB's own lock (waited for below) keeps writers apart, and asking the
    # API for a limit that does not exist would cost two round trips a batch.
    scheduled = bool(runtime.deployment.id)
    with WAREHOUSE_TURN, concurrency(WAREHOUSE_WRITER_LIMIT, occupy=1, strict=False) if scheduled else nullcontext():
        loaded = load_pending(settings.warehouse, settings.warehouse.lock_wait_seconds, dedup=settings.dedup)
    workers.release_freed_memory()  # the batch's pages and staged rows, gone now
    return loaded


def load_pending(target: Path | WarehouseSettings, lock_wait_seconds: float,
                 dedup: DedupSettings | None = None) -> LoadResult:
    """Load every staged batch, waiting up to ``lock_wait_seconds`` for a locked (or contended) warehouse."""
    folder = staging_dir(local_path(target))

    def load() -> LoadResult:
        with connected(target) as conn:
            return load_staged(conn, folder, dedup)

    try:
        return retry_transient(load, lock_wait_seconds, delay=0.2, max_delay=5.0, kind=WarehouseError)
    except WarehouseError as exc:
        get_run_logger().warning("%s; the batch stays staged and the next run loads it", exc.message)
        return LoadResult(0, 0, pending=len(staged_batches(folder)))



__all__ = ["discover_task", "drop_known", "enrich_batch", "enrich_task", "extract_task", "fetch_task",
           "load_pending", "load_task", "read_articles_task", "read_pages_task", "reextract_task", "run",
           "stale_articles_task", "stale_extractions_task"]
