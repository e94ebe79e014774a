"""Thin Prefect tasks over the pure stage functions, one task run per batch of documents.

Prefect costs milliseconds per task run, so every task takes a whole batch. Inputs are not
hashed for caching (pages are large and every run wants fresh work). Only the load task retries,
and only while the warehouse is locked: every other failure is already a rejection row.
"""

from __future__ import annotations

import time
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.logging import get_run_logger

from broadsheet.config.errors import WarehouseError
from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.discover import DiscoverContext, Discovery, discover_source
from broadsheet.tasks.enrich import current_enrichers, enrich_articles
from broadsheet.tasks.extract import extract_articles
from broadsheet.tasks.fetch import FetchOutcome, FetchState, fetch_pages, require_html
from broadsheet.tasks.records import Article, Batch, Candidate, Enrichment, Page, Rejection
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.enrichments import read_articles, stale_article_ids
from broadsheet.warehouse.load import LoadResult, load_staged, stage_batch, staged_batches, staging_dir
from broadsheet.warehouse.runs import known_article_ids
from broadsheet.warehouse.validators import read_validators, validator_lookup

# One per process: the spacing of requests per host and each site's robots.txt carry over from batch
# to batch (and run to run), so a batch boundary never lets a host be asked sooner than allowed.
FETCH_STATE = FetchState()


WAREHOUSE_WRITER_LIMIT = "broadsheet-warehouse-writer"


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(sources: list[SourceConfig], settings: Settings) -> Discovery:
    found = Discovery()
    context = DiscoverContext(settings.http, settings.discover, FETCH_STATE,
                              validator_lookup(settings.warehouse.path))
    for source in sources:
        found.extend(discover_source(source, settings.http, context=context))
    get_run_logger().info("discovered %d candidates and %d pages from %d sources",
                          len(found.candidates), len(found.pages), len(sources))
    return found


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_task(candidates: list[Candidate], settings: Settings) -> FetchOutcome:
    """Fetch a batch, conditionally where the warehouse has validators from an earlier fetch."""
    validators = read_validators(settings.warehouse.path, [c.url for c in candidates if c.archive is None])
    return fetch_pages(candidates, settings.http, validators=validators, state=FETCH_STATE)


@task(name="extract", cache_policy=NO_CACHE)
def extract_task(pages: list[Page], settings: Settings) -> tuple[list[Article], list[Rejection]]:
    html_pages, not_html = require_html(pages)
    articles, rejected = extract_articles(html_pages, settings.extract)
    return articles, not_html + rejected


@task(name="drop-known", cache_policy=NO_CACHE)
def drop_known_task(articles: list[Article], settings: Settings) -> tuple[list[Article], int]:
    """Articles not yet in the warehouse nor earlier in the list; and how many were dropped."""
    unique = list({a.article_id: a for a in articles}.values())
    path = settings.warehouse.path
    if not path.exists():
        return unique, len(articles) - len(unique)
    conn = connect(path)
    try:
        known = known_article_ids(conn, [a.article_id for a in unique])
    finally:
        conn.close()
    fresh = [a for a in unique if a.article_id not in known]
    return fresh, len(articles) - len(fresh)


@task(name="enrich", cache_policy=NO_CACHE)
def enrich_task(articles: list[Article], settings: Settings) -> list[Enrichment]:
    return enrich_articles(articles, settings)


@task(name="find-stale", cache_policy=NO_CACHE)
def stale_articles_task(settings: Settings, max_articles: int | None = None) -> list[str]:
    """Ids of stored articles enriched by other enricher versions than the current settings'."""
    enrichers = current_enrichers(settings)
    conn = connect(settings.warehouse.path)
    try:
        return stale_article_ids(conn, enrichers.entity, enrichers.topic, max_articles)
    finally:
        conn.close()


@task(name="read-articles", cache_policy=NO_CACHE)
def read_articles_task(article_ids: list[str], settings: Settings) -> list[Article]:
    """Stored articles rebuilt from the warehouse (no fetch, no extraction)."""
    conn = connect(settings.warehouse.path)
    try:
        return read_articles(conn, article_ids)
    finally:
        conn.close()


@task(name="load", cache_policy=NO_CACHE)
def load_task(batch: Batch, run_id: str, settings: Settings) -> LoadResult:
    """Stage the batch, then load everything staged; a batch that cannot load now stays staged."""
    folder = staging_dir(settings.warehouse.path)
    stage_batch(batch, run_id, folder)
    # One writer at a time: `broadsheet serve` creates this limit on its server; elsewhere it is a no-op
    # and DuckDB's own lock (waited for below) keeps writers apart.
    with concurrency(WAREHOUSE_WRITER_LIMIT, occupy=1, strict=False):
        return load_pending(settings.warehouse.path, settings.warehouse.lock_wait_seconds)


def load_pending(path: Path, lock_wait_seconds: float) -> LoadResult:
    """Load every staged batch, waiting up to ``lock_wait_seconds`` for a locked warehouse."""
    deadline = time.monotonic() + lock_wait_seconds
    delay = 0.2
    while True:
        try:
            conn = connect(path)
        except WarehouseError as exc:
            if not exc.transient or time.monotonic() + delay > deadline:
                get_run_logger().warning("%s; the batch stays staged and the next run loads it", exc.message)
                return LoadResult(0, 0, pending=len(staged_batches(staging_dir(path))))
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        try:
            return load_staged(conn, staging_dir(path))
        finally:
            conn.close()


__all__ = ["Batch", "discover_task", "drop_known_task", "enrich_task", "extract_task", "fetch_task",
           "load_pending", "load_task", "read_articles_task", "stale_articles_task"]
