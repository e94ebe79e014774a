"""Reading back what re-enrichment needs: which articles are stale, and their stored text.

An article is stale when ``article_enrichments`` records other enricher versions than the current
ones, or none at all (articles loaded before migration 0003). Articles are rebuilt from the
``articles`` table, so re-enrichment never fetches or extracts again. SQL lives in ``queries/``.
"""

from __future__ import annotations

import duckdb

from broadsheet.config.records import Article
from broadsheet.warehouse.sql import query


def stale_article_ids(conn: duckdb.DuckDBPyConnection, entity_enricher: str, topic_enricher: str,
                      max_articles: int | None = None) -> list[str]:
    """Ids of articles enriched by other versions (or never recorded), oldest first."""
    rows = conn.execute(query("stale_articles"), {
        "entity_enricher": entity_enricher, "topic_enricher": topic_enricher,
        "max_articles": max_articles if max_articles is not None else 2**62}).fetchall()
    return [row[0] for row in rows]


def read_articles(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> list[Article]:
    """The stored articles with these ids, as records (order of ids)."""
    rows = conn.execute(query("articles_by_id"), {"article_ids": article_ids}).fetchall()
    by_id = {row[0]: Article(row[0], row[1], row[2], row[3], row[4], tuple(row[5] or ()), row[6], row[7],
                             row[8], row[9], row[10], row[11], row[12], row[13]) for row in rows}
    return [by_id[i] for i in article_ids if i in by_id]


def drop_orphan_entities(conn: duckdb.DuckDBPyConnection) -> None:
    """Delete entities and aliases that no mention refers to any more (after re-enrichment moved them)."""
    conn.execute(query("drop_orphan_entities"))
