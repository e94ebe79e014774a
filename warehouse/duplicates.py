"""Story clusters in the warehouse: the load puts each new article in one, in its own transaction.

Clustering runs inside the load's transaction (see :mod:`broadsheet.warehouse.loading`), so it sees
every article loaded before, by any run from any source, and, on DuckLake, the writers' turn keeps
two workers from founding two clusters for one story. The decisions themselves are the pure
functions of :mod:`broadsheet.warehouse.minhash`; this module only reads candidates and writes
``article_clusters`` and ``minhash_bands``. SQL lives in ``queries/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from broadsheet.config.settings import DedupSettings
from broadsheet.warehouse.minhash import CANDIDATES_PER_BAND, KnownMembers, Member, NewArticle, assign_clusters
from broadsheet.warehouse.sql import query


def _int_list(values: list[int]) -> str:
    """Integers as DuckDB list text, cast to a list type in SQL. DuckDB's Python client converts a list
    parameter element by element, with an import attempt per element: far too slow for a batch's
    thousands of band keys and signature values."""
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def _members(conn: duckdb.DuckDBPyConnection, lookup: str, values: list, *more: object) -> list[Member]:
    """The clustered articles the query ``lookup`` finds for ``values``, signatures included, oldest first.

    Two statements: the lookup's ids first, then, only when it found any, their rows (reading the
    clusters of no article costs a pass over two tables on every load).
    """
    if not values:
        return []
    parameter = _int_list(values) if isinstance(values[0], int) else values
    found = [row[0] for row in conn.execute(query(lookup), [parameter, *more]).fetchall()]
    if not found:
        return []
    rows = conn.execute(query("cluster_members"), [found]).fetchall()
    return [Member(row[0], row[1], row[2], row[3], tuple(row[4])) for row in rows]


def known_members(conn: duckdb.DuckDBPyConnection) -> KnownMembers:
    """Lookups of clustered articles by canonical URL, content hash and MinHash band key."""
    return KnownMembers(
        by_url=lambda urls: _members(conn, "clustered_ids_by_url", urls),
        by_hash=lambda hashes: _members(conn, "clustered_ids_by_hash", hashes),
        by_band=lambda keys: _members(conn, "clustered_ids_by_band", keys, CANDIDATES_PER_BAND),
    )


def start_load_clusters(conn: duckdb.DuckDBPyConnection) -> None:
    """An empty ``load_clusters`` temp table: the clusters this load assigns, which the article facts read."""
    conn.execute("create or replace temp table load_clusters "
                 "(article_id varchar, cluster_id varchar, match_kind varchar)")


def cluster_staged_articles(conn: duckdb.DuckDBPyConnection, staged: Path, settings: DedupSettings) -> list[str]:
    """Cluster the articles in a staged ``articles.jsonl`` not clustered yet; returns their canonical URLs."""
    rows = conn.execute(query("new_articles_to_cluster"), [str(staged)]).fetchall()
    articles = [NewArticle(*row) for row in rows]
    assignments = assign_clusters(articles, known_members(conn), settings.near_duplicate_threshold,
                                  settings.shingle_words)
    if not assignments:
        return []
    now = datetime.now(UTC)
    signatures = "[" + ", ".join(_int_list(list(a.minhash)) for a in assignments) + "]"
    ids, clusters, kinds = ([a.article_id for a in assignments], [a.cluster_id for a in assignments],
                            [a.match_kind for a in assignments])
    conn.execute(query("insert_article_clusters"),
                 [ids, clusters, kinds, [float(a.similarity) for a in assignments],
                  [a.matched_article_id for a in assignments], signatures, now])
    conn.execute("insert into load_clusters select unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[])",
                 [ids, clusters, kinds])
    band_lists = "[" + ", ".join(_int_list(list(dict.fromkeys(a.band_keys))) for a in assignments) + "]"
    conn.execute(query("insert_minhash_bands"), [band_lists, [a.article_id for a in assignments]])
    return [a.canonical_url for a in articles]
