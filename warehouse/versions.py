"""Article versions kept at load time: the ``article_facts`` rows of the canonical URLs a load touched.

Views read each version's number, whether it is the latest, its story cluster, its entities and its top
topics from ``article_facts`` (migrations 0010 and 0012), and the explorer its entities' mentions, its
subtopics, countries and cities (0014), instead of a window over all versions and joins with the
enrichment tables on every query. A load, after inserting and clustering its articles and in
the same transaction, takes out the rows of every canonical URL it touched (``facts_old``), computes them
again (``facts_new``, queries/article_facts_versions.sql) and puts those in; the aggregates then follow
from the two (:mod:`broadsheet.warehouse.aggregates`). A version's own columns come from its previous
row, from the rows the load inserted when it is new, or from the base tables when its stored rows changed
in place (``load_changed``: re-enriched, re-keyed, given enrichment rows again), so an ordinary load reads
nothing but the rows it rewrites and the ``entities`` rows of the entities its new articles name. SQL lives
in ``queries/``.
"""

from __future__ import annotations

import duckdb

from broadsheet.warehouse.backend import move_rows
from broadsheet.warehouse.sql import json_list, query


def record_changed_articles(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """Name the articles whose stored rows this load changes in place (the temp table ``load_changed``)."""
    conn.execute("create or replace temp table load_changed as select unnest(?::json::varchar[]) as article_id",
                 [json_list(sorted(set(article_ids)))])


def refresh_article_facts(conn: duckdb.DuckDBPyConnection, canonical_urls: list[str]) -> None:
    """Rewrite the ``article_facts`` rows of these canonical URLs and of the ``load_changed`` articles.

    Leaves the rows taken out in ``facts_old`` and those put in in ``facts_new``. Needs the load's temp
    tables ``fresh_articles``, ``fresh_article_entities``, ``fresh_article_topics``, ``load_assigned`` and
    ``load_changed``.
    """
    conn.execute("create or replace temp table facts_old as select * from article_facts limit 0")
    changed = conn.execute("select count(*) from load_changed").fetchone()
    if changed and changed[0]:
        move_rows(conn, "article_facts", "facts_old",
                  "article_key in (select md5_number_lower(load_changed.article_id) from load_changed)")
        conn.execute(query("facts_changed"))
    else:
        conn.execute("create or replace temp table facts_changed as "
                     "select * exclude (version, versions, superseded_at, is_latest, url_match_kind, article_key, "
                     "url_key, cluster_key, article_date) from article_facts limit 0")
    conn.execute(query("touched_urls"), [json_list(canonical_urls)])
    move_rows(conn, "article_facts", "facts_old", "url_key in (select load_urls.url_key from load_urls)")
    conn.execute(query("return_untouched_facts"))
    conn.execute(query("delete_untouched_facts"))
    conn.execute(query("article_facts_versions"))
    conn.execute("insert into article_facts select * from facts_new")
