"""Replacing stored articles by their re-extraction, inside a load's transaction (``broadsheet reextract``).

A re-extracted article may get a new id: the canonical-URL rules or the extracted text changed. Its old
row goes; the staged new row is inserted by the load as any other. Rows that hang off the old id move
with it when the text and title are unchanged (enrichment, story cluster, MinHash bands), and are
dropped otherwise, so the load clusters the new article afresh and ``reenrich`` tags it again. Two old
articles that now share one id (two URLs that canonicalise alike) keep the first one's rows. Every
changed id is recorded in ``article_key_changes``, so old keys stay joinable to new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from broadsheet.config.records import Rekey
from broadsheet.warehouse.sql import query
from broadsheet.warehouse.staging import ENRICHMENT_TABLES

# Every table keyed by article_id whose rows belong to one article version (names are constants, never data).
ARTICLE_TABLES = (*ENRICHMENT_TABLES, "article_clusters", "minhash_bands")


def rekey_articles(conn: duckdb.DuckDBPyConnection, rekeyed: list[Rekey], run_id: str) -> None:
    """Drop the old rows of ``rekeyed`` articles and move (or drop) what hangs off them; call in a transaction."""
    if not rekeyed:
        return
    conn.execute("create or replace temp table rekeyed (old_article_id varchar, new_article_id varchar, "
                 "keep_enrichment boolean)")
    conn.executemany("insert into rekeyed values (?, ?, ?)",
                     [(r.old_article_id, r.new_article_id, r.keep_enrichment) for r in rekeyed])
    for table in ARTICLE_TABLES:
        conn.execute(query("rekey_drop_rows").replace("{table}", table))
        conn.execute(query("rekey_move_rows").replace("{table}", table))
    conn.execute(query("rekey_cluster_keys"))
    conn.execute(query("rekey_cluster_references"))
    conn.execute(query("rekey_drop_articles"))
    changed = [r for r in rekeyed if r.old_article_id != r.new_article_id]
    if changed:
        now = datetime.now(UTC)
        conn.executemany(query("insert_article_key_change"),
                         [(r.old_article_id, r.new_article_id, r.old_canonical_url, r.new_canonical_url, run_id, now)
                          for r in changed])
    conn.execute("drop table rekeyed")


def rekey_touches(conn: duckdb.DuckDBPyConnection, rekeyed: list[Rekey]) -> tuple[set[str], set[str]]:
    """The articles whose ``article_facts`` a re-key changes in place and the canonical URLs it touches: the
    re-keyed articles' old and new ids and URLs, and the other members of their story clusters (their
    cluster id moves to the new id). Call before :func:`rekey_articles`."""
    if not rekeyed:
        return set(), set()
    old_ids = [r.old_article_id for r in rekeyed]
    mates = conn.execute(query("rekey_cluster_mates"), [old_ids, old_ids]).fetchall()
    ids = {*old_ids, *(r.new_article_id for r in rekeyed), *(row[0] for row in mates)}
    urls = {*(r.old_canonical_url for r in rekeyed), *(r.new_canonical_url for r in rekeyed),
            *(row[1] for row in mates)}
    return ids, urls
