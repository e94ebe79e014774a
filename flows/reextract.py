"""The ``reextract`` flow: extract stored pages again when the extractor, its settings or the URL rules change.

Every article records what made it (``articles.extractor``: trafilatura's release, the canonical-URL rules,
a digest of the ``[extract]`` settings). This flow finds the articles made by another, rebuilds their pages
from the page archive (no fetch), extracts them again over the worker processes and loads each batch
through the same staging as ``ingest``: in one transaction the old row is replaced, its enrichment moves
to the new id when text and title are unchanged (:mod:`broadsheet.warehouse.rekey`), and a changed id is
kept joinable in ``article_key_changes``. Articles whose text or title changed are then enriched again by
the ``reenrich`` mechanism (:func:`broadsheet.flows.reenrich.reenrich_articles`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from prefect import flow, runtime

from broadsheet.config.records import Article, Batch, Rejection, Rekey
from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig
from broadsheet.flows.reenrich import reenrich_articles
from broadsheet.flows.run_record import recorded_run
from broadsheet.tasks.batch import load_task, read_pages_task, reextract_task, run, stale_extractions_task
from broadsheet.warehouse.stored_pages import StoredPage


@dataclass
class ReextractSummary:
    """What one reextract run did; also the CLI's ``--json`` output."""

    run_id: str
    warehouse: str
    stale: int
    extracted: int = 0
    rekeyed: int = 0  # articles whose id changed (canonical URL or text)
    reenriched: int = 0
    rejected: int = 0
    pending_batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@flow(name="reextract", validate_parameters=False)
def reextract_flow(settings: Settings, max_articles: int | None = None, dry_run: bool = False,
                   sources: list[SourceConfig] | None = None) -> ReextractSummary:
    """Re-extract every article made by another extractor (at most ``max_articles``); ``dry_run`` only counts.

    The articles of ``sources`` with [extract] overrides of their own are extracted with them, as ingest does.
    """
    run_id = runtime.flow_run.id or str(uuid.uuid4())
    sources = sources or []
    stale = run(stale_extractions_task, "find-stale-extractions", settings, max_articles, sources)
    summary = ReextractSummary(run_id, str(settings.warehouse.path), len(stale))
    if dry_run:
        return summary
    parameters = {"max_articles": max_articles, "batch_size": settings.pipeline.batch_size}
    changed: list[str] = []
    with recorded_run(settings.warehouse, run_id, runtime.flow_run.id, "reextract", parameters) as counts:
        size = settings.pipeline.batch_size
        total = -(-len(stale) // size)
        for number, start in enumerate(range(0, len(stale), size), 1):
            label = f"batch {number}/{total} (articles {start + 1}-{min(start + size, len(stale))} of {len(stale)})"
            changed += _reextract_batch(stale[start:start + size], settings, sources, run_id, label, summary)
        summary.reenriched, _, summary.pending_batches = reenrich_articles(changed, settings, run_id)
        counts.extracted, counts.enriched, counts.rejected = summary.extracted, summary.reenriched, summary.rejected
    return summary


def _reextract_batch(article_ids: list[str], settings: Settings, sources: list[SourceConfig], run_id: str,
                     label: str, summary: ReextractSummary) -> list[str]:
    """Re-extract and load one batch; returns the ids of its articles that need enriching again."""
    stored = run(read_pages_task, f"read-pages {label}", article_ids, settings)
    pages = [s.page for s in stored if s.page]
    articles, rejections = run(reextract_task, f"reextract {label}", pages, settings, sources)
    rejections = [*rejections, *(_no_page(s) for s in stored if s.page is None)]
    rekeyed = pair_versions(stored, articles)
    loaded = run(load_task, f"load {label}", Batch(articles=articles, rejections=rejections, rekeyed=rekeyed),
                 run_id, settings)
    summary.extracted += len(articles)
    summary.rekeyed += sum(r.old_article_id != r.new_article_id for r in rekeyed)
    summary.rejected += len(rejections)
    summary.pending_batches = loaded.pending
    return [r.new_article_id for r in rekeyed if not r.keep_enrichment]


def pair_versions(stored: list[StoredPage], articles: list[Article]) -> list[Rekey]:
    """Each stored article with its re-extraction (the article of the same page)."""
    by_page = {a.page_id: a for a in articles}
    pairs = []
    for item in stored:
        new = by_page.get(item.article.page_id)
        if new is None:
            continue  # the page no longer extracts: the old article stays, with its rejection
        old = item.article
        keep = (old.content_hash, old.title) == (new.content_hash, new.title)
        pairs.append(Rekey(old.article_id, new.article_id, old.canonical_url, new.canonical_url, keep))
    return pairs


def _no_page(stored: StoredPage) -> Rejection:
    article = stored.article
    return Rejection("extract", article.url, article.source, "no_page",
                     f"article {article.article_id} has no stored page to re-extract; ingest {article.url} again")
