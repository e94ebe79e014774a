"""The ``reenrich`` flow: redo the enrichment of stored articles made by older enricher versions.

After a new spaCy model, new resolution rules or gazetteer, a new embedding model or an edited
taxonomy, the current enricher names differ from those recorded in ``article_enrichments``. This flow
finds those articles, rebuilds them from ``articles.text`` (no fetch, no extraction), enriches them
batch by batch and loads each batch through the same staging as ``ingest``; loading replaces the
articles' old mentions, salience, keyphrases and topic scores in the same transaction, so a re-run
adds no duplicate rows and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import duckdb
from prefect import flow, runtime

from broadsheet.config.records import Batch
from broadsheet.config.settings import Settings
from broadsheet.flows.run_record import recorded_run
from broadsheet.tasks.batch import enrich_task, load_task, read_articles_task, run, stale_articles_task
from broadsheet.tasks.enrich import stale_articles, taxonomy_for
from broadsheet.warehouse.enrichments import drop_orphan_entities
from broadsheet.warehouse.runs import record_topics


@dataclass
class ReenrichSummary:
    """What one reenrich run did; also the CLI's ``--json`` output."""

    run_id: str
    warehouse: str
    stale: int
    enriched: int
    loaded_batches: int
    pending_batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def count_stale(settings: Settings, max_articles: int | None = None) -> ReenrichSummary:
    """What a reenrich run would redo, without running one (no flow run, no Prefect server)."""
    stale = stale_articles(settings, max_articles)
    return ReenrichSummary("", str(settings.warehouse.path), len(stale), 0, 0)


@flow(name="reenrich", flow_run_name="reenrich {settings.warehouse.path.name}", validate_parameters=False)
def reenrich_flow(settings: Settings, max_articles: int | None = None) -> ReenrichSummary:
    """Re-enrich every stale article (at most ``max_articles``); named like ingest runs (``reenrich FILE``)."""
    run_id = runtime.flow_run.id or str(uuid.uuid4())
    stale = run(stale_articles_task, "find-stale", settings, max_articles)
    parameters = {"max_articles": max_articles, "batch_size": settings.pipeline.batch_size}
    with recorded_run(settings.warehouse, run_id, runtime.flow_run.id, "reenrich", parameters,
                      before=lambda conn: record_topics(conn, taxonomy_for(settings.topics)),
                      after=_drop_orphans) as counts:
        counts.enriched, batches, pending = reenrich_articles(stale, settings, run_id)
    return ReenrichSummary(run_id, str(settings.warehouse.path), len(stale), counts.enriched, batches, pending)


def reenrich_articles(article_ids: list[str], settings: Settings, run_id: str) -> tuple[int, int, int]:
    """Enrich the stored articles ``article_ids`` again, batch by batch, replacing their enrichment rows.

    Returns how many were enriched, how many batches loaded, and how many stay staged (warehouse locked).
    """
    enriched = batches = pending = 0
    size = settings.pipeline.batch_size
    total = -(-len(article_ids) // size)
    for number, start in enumerate(range(0, len(article_ids), size), 1):
        label = (f"batch {number}/{total} (articles {start + 1}-{min(start + size, len(article_ids))} "
                 f"of {len(article_ids)})")
        articles = run(read_articles_task, f"read-articles {label}", article_ids[start:start + size], settings)
        done, enrichments, rejections = run(enrich_task, f"enrich {label}", articles, settings)
        batch = Batch(enrichments=enrichments, reenriched=[a.article_id for a in done], rejections=rejections)
        loaded = run(load_task, f"load {label}", batch, run_id, settings)
        enriched += len(enrichments)
        batches += loaded.batches
        pending = loaded.pending
    return enriched, batches, pending


def _drop_orphans(conn: duckdb.DuckDBPyConnection, status: str) -> None:
    if status == "completed":  # entities whose every mention moved elsewhere are gone for good
        drop_orphan_entities(conn)
