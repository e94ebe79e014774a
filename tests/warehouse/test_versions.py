"""Article versions kept at load time (article_facts, migration 0010): upgrading a warehouse keeps every
view's answers, and loads keep the rows equal to a rebuild from scratch."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
from helpers import DAY, FLOOD, WIRE, article, batch_of, load

from broadsheet.config.settings import TopicSettings, WarehouseSettings
from broadsheet.tasks.enrich import taxonomy_for
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.migrate import MIGRATIONS_DIR, available_migrations, create_views, migrate
from broadsheet.warehouse.runs import record_topics

# The view files as they were at schema version 8, before article_facts: a warehouse made by that release.
VIEWS_0008 = Path(__file__).resolve().parent / "fixtures" / "views_0008"


def migrations_before(version: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for migration in available_migrations():
        if migration.version < version:
            (folder / migration.path.name).write_text(migration.path.read_text(encoding="utf-8"))
    return folder


def fill(conn: duckdb.DuckDBPyConnection, articles: int = 400) -> None:
    """Rows of every kind the views read, written straight into the tables (as an older release's loads
    left them): URLs with up to three versions seen out of order and with ties, undated articles,
    articles without a cluster row, copies in other articles' clusters, entities, topics, subtopics."""
    conn.execute("""insert into sources select 'source-' || i, 'feed', 'https://s' || i || '.example/feed.xml', '1h',
                    timestamptz '2025-01-01', timestamptz '2025-01-01' from range(5) t(i)""")
    conn.execute("insert into runs (run_id, flow, status, started_at) "
                 "values ('run-1', 'ingest', 'completed', timestamptz '2025-01-01')")
    conn.execute(f"""
        create temp table base as
        select i, 'a' || lpad(i::varchar, 4, '0') as article_id,
               case when i % 4 = 0 then i // 8 else i end as url_number,
               timestamptz '2025-01-01' + to_hours((i * 37) % 50) as seen
        from range({articles}) t(i)""")
    conn.execute("""
        insert into articles
        select article_id, 'https://s' || (url_number % 5) || '.example/a/' || url_number,
               'https://s' || (url_number % 5) || '.example/a/' || url_number, 'source-' || (url_number % 5), null,
               'Title ' || i, ['Reporter'], case when i % 7 = 0 then null else seen - interval 3 hour end, seen, 'en',
               'site', 'Story ' || i, 'hash-' || (i % 350), 'test', 'run-1', 7 + length(i::varchar)
        from base""")
    conn.execute("""
        insert into article_clusters
        select article_id,
               case when i % 10 = 3 then 'a' || lpad((i - 3)::varchar, 4, '0') else article_id end,
               case when i % 10 = 3 then (case when i % 20 = 3 then 'exact' else 'near' end)
                    when i % 4 = 0 and i >= 8 then 'revision' else 'original' end,
               0.9, null, list_transform(range(128), x -> (x * i)::integer), seen
        from base where i % 11 <> 0""")
    conn.execute("""
        insert into entities (entity_id, name, entity_type, normalized_name, first_seen_at)
        select 'e' || i, 'Entity ' || i, ['person', 'organization', 'place'][i % 3 + 1], 'entity ' || i,
               timestamptz '2025-01-01' from range(30) t(i)""")
    conn.execute("""
        insert into article_entities
        select distinct on (article_id, entity_id) article_id, entity_id, k, k = 1, k < 3, k * 10, 0.5, 'test'
        from (select article_id, 'e' || ((i * k) % 30) as entity_id, k from base, range(1, 5) r(k))""")
    conn.execute("""
        insert into mentions select article_id, entity_id, replace(entity_id, 'e', 'Entity '), first_char,
               first_char + 8, false, 'test' from article_entities""")
    record_topics(conn, taxonomy_for(TopicSettings()))
    conn.execute("""
        insert into article_topics
        select b.article_id, t.topic_id, 0.9 - r * 0.1, r, t.taxonomy_version, 'test'
        from base b, range(1, 3) q(r),
             (select topic_id, taxonomy_version, row_number() over (order by topic_id) - 1 as n from topics) t
        where t.n = (b.i + r) % 17""")
    conn.execute("""
        insert into article_subtopics
        select article_id, topic_id, 'code-' || (rank % 3), 'label ' || (rank % 3), 2, 'code-' || (rank % 3),
               'label ' || (rank % 3), score, 1, 'test'
        from article_topics""")
    conn.execute("""
        insert into pages select 'p' || i, 'https://s' || (i % 5) || '.example/p/' || i, 'https://s' || (i % 5)
               || '.example/p/' || i, 'source-' || (i % 5), 'text/html', ''::blob, 100, seen from base""")
    conn.execute("""
        insert into rejections (rejection_id, run_id, stage, url, source_id, error_type, message, transient,
                                rejected_at)
        select i, 'run-1', 'extract', 'https://x.example/' || i, 'source-' || (i % 5), 'no_text', 'm', false,
               timestamptz '2025-01-02' from range(20) t(i)""")
    conn.execute("drop table base")


def view_columns(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every view's columns, by view name."""
    rows = conn.execute("select table_name, column_name from information_schema.columns where table_name in "
                        "(select view_name from duckdb_views() where not internal "
                        "and database_name = current_database()) order by table_name, ordinal_position").fetchall()
    columns: dict[str, list[str]] = {}
    for view, column in rows:
        columns.setdefault(view, []).append(column)
    return columns


def answers(conn: duckdb.DuckDBPyConnection, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every view's rows, in a fixed order: of ``columns`` (by view), else all of them (a view may gain columns)."""
    columns = columns or view_columns(conn)
    quoted = {name: ", ".join(f'"{column}"' for column in cols) for name, cols in columns.items()}
    return {name: sorted(conn.execute(f"select {quoted[name]} from {name}").fetchall(), key=repr) for name in quoted}


def facts_rebuilt(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    """article_facts computed from scratch, by migration 0010's own statements, into another table."""
    sql = (MIGRATIONS_DIR / "0010_add_article_facts.sql").read_text(encoding="utf-8")
    conn.execute("drop table if exists rebuilt_facts")
    conn.execute(sql.replace("article_facts", "rebuilt_facts"))
    rows = conn.execute("select * from rebuilt_facts order by article_id").fetchall()
    conn.execute("drop table rebuilt_facts")
    return rows


def test_upgrading_a_warehouse_keeps_every_view_s_answers(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("set timezone = 'UTC'")
    migrate(conn, migrations_before(9, tmp_path / "older"))
    create_views(conn, VIEWS_0008)
    fill(conn)
    columns = view_columns(conn)
    before = answers(conn, columns)
    pairs = conn.execute("""
        select entity_b, articles, stories, last_day from entity_cooccurrence where entity_a = 'Entity 6'
        union all
        select entity_a, articles, stories, last_day from entity_cooccurrence where entity_b = 'Entity 6'""").fetchall()
    conn.close()

    conn = connect(WarehouseSettings(path=path))  # a writer migrates and re-creates the views
    try:
        assert {9, 10} <= {r[0] for r in conn.execute("select version from schema_migrations").fetchall()}
        after = answers(conn, columns)
        companions = conn.execute("select name, articles, stories, last_day "
                                  "from entity_companions('Entity 6')").fetchall()
    finally:
        conn.close()
    assert sorted(before) == sorted(after)
    for name, rows in before.items():
        assert after[name] == rows, f"view {name} answers differently after the upgrade"
    assert len(before["article_versions"]) == 400 and len(before["latest_articles"]) < 400  # revisions exist
    assert any(versions == 3 for versions in (r[13] for r in before["latest_articles"]))
    assert sorted(companions) == sorted(pairs) and len(companions) > 5
    assert companions == sorted(companions, key=lambda r: (-r[1], r[0]))  # most frequent first


def test_loads_keep_article_facts_equal_to_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = connect(WarehouseSettings(path=path))
    fill(conn, 120)  # rows as an older release left them: the upgrade computes their facts
    rebuilt = facts_rebuilt(conn)
    conn.executemany("insert into article_facts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rebuilt)
    conn.close()

    wire = article("https://wire.example/rates", WIRE, source="wire")
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    load(path, batch_of(wire, copy))
    revised = article("https://paper.example/rates", WIRE + " Corrected: the decision came on Wednesday.",
                      source="paper", seen=DAY + timedelta(hours=5))
    earlier = article("https://paper.example/rates", WIRE + " First draft.", source="paper",
                      seen=DAY - timedelta(hours=2))  # seen before the others, loaded after them
    load(path, batch_of(revised), run_id="run2")
    load(path, batch_of(earlier, article("https://s1.example/a/1", FLOOD, source="source-1",
                                         seen=DAY + timedelta(days=400))), run_id="run3")
    load(path, batch_of(revised, earlier), run_id="run4")  # again: nothing changes

    conn = duckdb.connect(str(path))
    conn.execute("set timezone = 'UTC'")
    try:
        assert conn.execute("select * from article_facts order by article_id").fetchall() == facts_rebuilt(conn)
        rows = conn.execute("select version, versions, is_latest, match_kind, url_match_kind from article_versions "
                            "where canonical_url = 'https://paper.example/rates' order by version").fetchall()
        assert rows == [(1, 3, False, "revision", "revision"), (2, 3, False, "exact", "revision"),
                        (3, 3, True, "revision", "revision")]
        latest = conn.execute("select versions from latest_articles "
                              "where canonical_url = 'https://s1.example/a/1'").fetchall()
        assert latest == [(4,)]  # the synthetic URL's three versions and the loaded one
    finally:
        conn.close()
