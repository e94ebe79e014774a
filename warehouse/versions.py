"""Article versions kept at load time: the ``article_facts`` rows of the canonical URLs a load touched.

Views read each version's number, whether it is the latest and its story cluster from ``article_facts``
(migration 0010) instead of a window over all versions on every query. A load recomputes the rows of
the canonical URLs of its articles, after inserting and clustering them and in the same transaction,
from ``articles`` and ``article_clusters``: both only gain rows, and re-enrichment changes neither, so
the rows stay exact on both backends. SQL lives in ``queries/``.
"""

from __future__ import annotations

import duckdb

from broadsheet.warehouse.sql import query


def refresh_article_facts(conn: duckdb.DuckDBPyConnection, canonical_urls: list[str]) -> None:
    """Recompute the ``article_facts`` rows of these canonical URLs (their versions may have changed)."""
    if not canonical_urls:
        return
    conn.execute(query("delete_article_facts"), [canonical_urls])
    conn.execute(query("refresh_article_facts"), [canonical_urls])
