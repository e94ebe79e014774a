"""Story clusters in the warehouse: the load puts each new article in one, in its own transaction.

Clustering runs inside the load's transaction (see :mod:`broadsheet.warehouse.loading`), so it sees
every article loaded before, by any run from any source, and, on DuckLake, the writers' turn keeps
two workers from founding two clusters for one story. The decisions themselves are the pure
functions of :mod:`broadsheet.warehouse.minhash`; this module only reads candidates and writes
``article_clusters`` and ``minhash_bands``.

The candidates are found in one pass per table, batched for the whole load: the band rows with the new
articles' keys (a scan of the band keys), then the ``article_facts`` rows with their canonical URLs' and
content hashes' 64-bit keys or with a band hit's id, then those articles' ``article_clusters`` rows, each
read with :func:`~broadsheet.warehouse.backend.copy_rows`, which fetches only the rows found. SQL lives
in ``queries/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from broadsheet.config.settings import DedupSettings
from broadsheet.warehouse.backend import copy_rows
from broadsheet.warehouse.minhash import CANDIDATES_PER_BAND, Member, NewArticle, assign_clusters
from broadsheet.warehouse.sql import json_list, query

_SEEN_FACTS = ("url_key in (select md5_number_lower(value) from lookup_keys where kind = 'url') "
               "or hash_key in (select value::ubigint from lookup_keys where kind = 'hash') "
               "or article_key in (select md5_number_lower(band_hits.article_id) from band_hits)")
_SEEN_CLUSTERS = "article_key in (select seen_facts.article_key from seen_facts)"


def find_members(conn: duckdb.DuckDBPyConnection, urls: list[str], hashes: list[str], keys: list[int]) -> list[Member]:
    """The clustered articles sharing a canonical URL, a content hash key or a MinHash band key with these,
    in the order :data:`~broadsheet.warehouse.minhash.FindMembers` says."""
    conn.execute(query("lookup_keys"), [json_list(urls), json_list(hashes)])
    for table, target in (("minhash_bands", "band_hits"), ("article_facts", "seen_facts"),
                          ("article_clusters", "seen_clusters")):
        conn.execute(f"create or replace temp table {target} as select * from {table} limit 0")
    # The one lookup that reads a whole column: 32 band keys per article (no index pays, benchmarks/RESULTS.md).
    copy_rows(conn, "minhash_bands", "band_hits", "band_key in (select unnest(?::json::integer[]))", [json_list(keys)])
    copy_rows(conn, "article_facts", "seen_facts", _SEEN_FACTS)
    copy_rows(conn, "article_clusters", "seen_clusters", _SEEN_CLUSTERS)
    rows = conn.execute(query("cluster_candidates"), [CANDIDATES_PER_BAND]).fetchall()
    return [Member(row[1], row[2], row[3], row[4], tuple(row[5])) for row in rows]


def start_load_clusters(conn: duckdb.DuckDBPyConnection) -> None:
    """An empty ``load_assigned`` temp table: the clusters this load assigns, which the article facts read."""
    conn.execute("create or replace temp table load_assigned (article_id varchar, cluster_id varchar, "
                 "match_kind varchar, similarity double, matched_article_id varchar, minhash integer[], "
                 "clustered_at timestamptz)")


def cluster_staged_articles(conn: duckdb.DuckDBPyConnection, staged: Path, settings: DedupSettings) -> list[str]:
    """Cluster the articles in a staged ``articles.jsonl`` not clustered yet; returns their canonical URLs."""
    rows = conn.execute(query("new_articles_to_cluster"), [str(staged)]).fetchall()
    articles = [NewArticle(*row) for row in rows]
    if not articles:
        return []
    assignments = assign_clusters(articles, lambda urls, hashes, keys: find_members(conn, urls, hashes, keys),
                                  settings.near_duplicate_threshold, settings.shingle_words)
    conn.execute(query("assign_article_clusters"), [datetime.now(UTC), json_list([
        {"article_id": a.article_id, "cluster_id": a.cluster_id, "match_kind": a.match_kind,
         "similarity": float(a.similarity), "matched_article_id": a.matched_article_id,
         "minhash": [int(v) for v in a.minhash]} for a in assignments])])
    conn.execute(query("insert_article_clusters"))
    conn.execute(query("insert_minhash_bands"), [json_list(
        [{"article_id": a.article_id, "keys": list(dict.fromkeys(int(k) for k in a.band_keys))} for a in assignments])])
    return [a.canonical_url for a in articles]
