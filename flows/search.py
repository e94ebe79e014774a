"""Search as `broadsheet search` does: refresh a stale full-text index, embed the query when semantic.

The query's embedding is made here, above the warehouse, so reading the warehouse never loads a model.
"""

from __future__ import annotations

from broadsheet.config.settings import Settings
from broadsheet.warehouse.search import (
    SearchFilters,
    SearchHit,
    open_index,
    refresh_index,
    search_semantic,
    search_text,
)


def run_search(settings: Settings, text: str, mode: str, filters: SearchFilters, limit: int) -> list[SearchHit]:
    """The ``limit`` best articles for ``text`` by words (``mode`` "text") or meaning ("semantic")."""
    conn = open_index(settings.warehouse)
    try:
        refresh_index(conn)
        if mode == "semantic":
            from broadsheet.tasks.enrich import embed, embedding_model

            vector = [float(x) for x in embed([text], settings.topics)[0]]
            return search_semantic(conn, vector, embedding_model(settings.topics.model).name, filters, limit)
        return search_text(conn, text, filters, limit)
    finally:
        conn.close()
