"""Reading back what re-extraction needs: which articles an older extractor made, and their stored pages.

An article is stale for extraction when ``articles.extractor`` names another extractor than the current
one (another trafilatura release, other extraction settings, older canonical-URL rules). Its page is
rebuilt from ``pages`` and ``page_bodies`` (the page archive), so re-extraction never fetches; the
article's stored title and date stand in for the feed's hints, which pages do not keep.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from broadsheet.config.records import Article, Page
from broadsheet.warehouse.enrichments import read_articles
from broadsheet.warehouse.sql import query


@dataclass(frozen=True)
class StoredPage:
    """A stored article and the page it was extracted from (None when the warehouse no longer has it)."""

    article: Article
    page: Page | None


def stale_extraction_ids(conn: duckdb.DuckDBPyConnection, extractor: str, max_articles: int | None = None,
                         per_source: Mapping[str, str] | None = None) -> list[str]:
    """Ids of articles made by another extractor than ``extractor`` (or, for the sources in ``per_source``,
    than theirs: a source's own [extract] overrides make its own extractor), oldest first."""
    per_source = per_source or {}
    rows = conn.execute(query("stale_extractions"), {
        "extractor": extractor, "sources": list(per_source), "extractors": list(per_source.values()),
        "max_articles": max_articles if max_articles is not None else 2**62}).fetchall()
    return [row[0] for row in rows]


def read_stored_pages(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> list[StoredPage]:
    """The articles with these ids (in that order), each with its stored page."""
    articles = read_articles(conn, article_ids)
    rows = conn.execute(query("stored_pages_by_article"), {"article_ids": article_ids}).fetchall()
    pages = {row[0]: row[1:] for row in rows}
    return [StoredPage(a, _page(a, pages[a.article_id]) if a.article_id in pages else None) for a in articles]


def _page(article: Article, row: tuple) -> Page:
    url, final_url, source, content_type, content_gzip = row
    return Page(url, final_url, source, gzip.decompress(content_gzip), content_type, article.fetched_at,
                title_hint=article.title, published_hint=article.published_at)
