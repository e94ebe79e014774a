"""Search over the warehouse: BM25 full text (DuckDB's fts extension) and semantic (stored embeddings).

The full-text index lives in its own local DuckDB file next to the warehouse
(``<warehouse.path>.search``): DuckDB's fts index cannot be stored in DuckLake, and keeping it apart
means building it never holds the warehouse's write lock. The index file attaches the warehouse
read-only (as ``warehouse``), copies the latest version of each article into ``documents`` and
indexes their titles and text; it is rebuilt when the warehouse's articles changed since (count and
latest first-seen time). Semantic search ranks the same documents by the cosine similarity of the
lead embeddings the topic stage stored with a query vector the caller embeds by the same model
(:mod:`broadsheet.flows.search`, so the warehouse never loads a model).
Filters (date range, source, entity, topic) are the same for both. SQL lives in ``queries/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.backend import attach_sql, load_extension
from broadsheet.warehouse.connection import is_lock_conflict
from broadsheet.warehouse.sql import literal, query


@dataclass(frozen=True)
class SearchFilters:
    since: date | None = None
    until: date | None = None
    source: str | None = None
    entity: str | None = None   # an entity's name (any case) or id
    topic: str | None = None    # a topic's id or label (any case)


@dataclass(frozen=True)
class SearchHit:
    article_id: str
    title: str | None
    source_id: str
    article_date: date
    canonical_url: str
    cluster_id: str
    score: float


def index_path(settings: WarehouseSettings) -> Path:
    """The local file holding the full-text index of this warehouse."""
    if settings.backend == "ducklake":
        return settings.path.with_name(f"{settings.catalog_schema}.ducklake.search")
    return settings.path.with_name(settings.path.name + ".search")


def open_index(settings: WarehouseSettings) -> duckdb.DuckDBPyConnection:
    """The search index file, with fts loaded and the warehouse attached read-only as ``warehouse``."""
    path = index_path(settings)
    if settings.backend == "duckdb" and not settings.path.exists():
        raise WarehouseError(f"no warehouse at {settings.path}: run `broadsheet ingest` first or pass --db",
                             code="missing")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Attached under a name of its own: opened directly, the file would be a database named after its
        # stem, which is "warehouse" for a warehouse.duckdb and collides with the warehouse's alias below.
        conn = duckdb.connect()
        conn.execute(f"attach {literal(path)} as search_index")
        conn.execute("use search_index")
        load_extension(conn, "fts")
        if settings.backend == "ducklake":
            load_extension(conn, "postgres")
            load_extension(conn, "ducklake")
        conn.execute("set timezone = 'UTC'")
        conn.execute(attach_sql(settings, "warehouse", read_only=True))
    except duckdb.Error as exc:
        locked = is_lock_conflict(exc)
        raise WarehouseError(f"cannot open the search index {path}: {exc}", code="locked" if locked else "io",
                             transient=locked) from exc
    return conn


def _warehouse_state(conn: duckdb.DuckDBPyConnection) -> str:
    """A fingerprint of the warehouse's article versions: it changes when one is added, replaced or re-keyed."""
    row = conn.execute("select count(*), max(first_seen_at), bit_xor(hash(article_id, title, content_hash)) "
                       "from warehouse.articles").fetchone()
    return "|".join(str(value) for value in row) if row else ""


def refresh_index(conn: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the full-text index if the warehouse's articles changed since it was built; True if rebuilt."""
    conn.execute("create table if not exists index_fingerprint (fingerprint varchar)")
    state = _warehouse_state(conn)
    built = conn.execute("select fingerprint from index_fingerprint").fetchone()
    if built is not None and built[0] == state:
        return False
    conn.execute("begin transaction")
    try:
        conn.execute(query("search_documents"))
        conn.execute("pragma create_fts_index('documents', 'article_id', 'title', 'text', overwrite = 1)")
        conn.execute("delete from index_fingerprint")
        conn.execute("insert into index_fingerprint values (?)", [state])
        conn.execute("commit")
    except duckdb.Error as exc:
        conn.execute("rollback")
        raise WarehouseError(f"cannot build the full-text index: {exc}", code="search_index") from exc
    return True


def _parameters(filters: SearchFilters, limit: int) -> dict[str, Any]:
    return {"since": filters.since, "until": filters.until, "source": filters.source,
            "entity": filters.entity, "topic": filters.topic, "limit": limit}


def _hits(conn: duckdb.DuckDBPyConnection, query_name: str, parameters: dict[str, Any]) -> list[SearchHit]:
    # The filters' SQL is a file of ours, never input; every value is a bound parameter.
    sql = query(query_name).replace("{filters}", query("search_filters"))
    try:
        rows = conn.execute(sql, parameters).fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"search failed: {exc}", code="query") from exc
    return [SearchHit(*row) for row in rows]


def search_text(conn: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters = SearchFilters(),
                limit: int = 10) -> list[SearchHit]:
    """Articles matching ``query`` (BM25 over title and text), best first."""
    return _hits(conn, "search_bm25", {**_parameters(filters, limit), "query": query})


def search_semantic(conn: duckdb.DuckDBPyConnection, vector: list[float], model: str,
                    filters: SearchFilters = SearchFilters(), limit: int = 10) -> list[SearchHit]:
    """Articles whose stored lead embedding (by ``model``) is closest to ``vector``, best first."""
    return _hits(conn, "search_semantic", {**_parameters(filters, limit), "vector": vector, "model": model})

