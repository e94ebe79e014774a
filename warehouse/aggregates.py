"""The aggregates the daily views read, kept at load time: ``topic_day_stories``, ``story_clusters`` and
``entity_mention_totals`` (migration 0012).

After :mod:`broadsheet.warehouse.versions` rewrote the ``article_facts`` rows of the URLs a load touched
(``facts_old`` out, ``facts_new`` in), each aggregate takes out its rows of the touched clusters or
entities, recomputes them and puts them back, in the load's transaction: ``topic_day_stories`` and
``entity_mention_totals`` by adding what came in and subtracting what went out (counts and exact
decimal sums, so the result is what a rebuild gives), ``story_clusters`` from the clusters' latest
versions. So an aggregate is always what migration 0012 would compute from the base tables, on both
backends (tests/warehouse/test_versions.py checks it after loads, revisions, re-enrichment and re-keys).
SQL lives in ``queries/``.
"""

from __future__ import annotations

import duckdb

from broadsheet.warehouse.backend import move_rows
from broadsheet.warehouse.sql import query

_TOUCHED_STORIES = "cluster_key in (select load_stories.cluster_key from load_stories)"


def snapshot_mentions(conn: duckdb.DuckDBPyConnection) -> None:
    """Count the mentions of the ``load_changed`` articles before the load changes them (``mention_before``)."""
    conn.execute(query("mention_before"))


def update_aggregates(conn: duckdb.DuckDBPyConnection) -> None:
    """Bring the aggregates up to date with ``facts_old``/``facts_new`` and the load's mentions."""
    conn.execute(query("touched_clusters"))
    _update_topic_day_stories(conn)
    _update_story_clusters(conn)
    _update_entity_mention_totals(conn)


def _update_topic_day_stories(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create or replace temp table stories_topics_old as select * from topic_day_stories limit 0")
    move_rows(conn, "topic_day_stories", "stories_topics_old", _TOUCHED_STORIES)
    conn.execute(query("topic_day_stories_again"))


def _update_story_clusters(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create or replace temp table stories_old as select * from story_clusters limit 0")
    move_rows(conn, "story_clusters", "stories_old", _TOUCHED_STORIES)
    conn.execute(query("story_clusters_again"))
    conn.execute(query("story_clusters_names"))
    if _count(conn, "select count(*) from story_firsts where article_key not in (select article_key from story_names)"):
        conn.execute(query("story_clusters_unnamed"))
    if _count(conn, "select count(*) from story_names where not title_known"):
        conn.execute(query("story_clusters_titles"))
    conn.execute(query("story_clusters_rows"))


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _update_entity_mention_totals(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(query("mentioned_entities"))
    conn.execute("create or replace temp table totals_old as select * from entity_mention_totals limit 0")
    move_rows(conn, "entity_mention_totals", "totals_old",
              "entity_id in (select load_entities.entity_id from load_entities)")
    conn.execute(query("entity_mention_totals_again"))
