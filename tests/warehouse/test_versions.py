"""Article versions and aggregates kept at load time (article_facts, migration 0010; topic_day_stories,
story_clusters, entity_mention_totals and the facts' entity and topic lists, 0012): upgrading a warehouse
keeps every view's answers, and loads, revisions, re-enrichment and re-keys keep the rows equal to what the
migrations compute from the base tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import DAY, FLOOD, WIRE, article, batch_of, derived_rows, load

from broadsheet.config.settings import TopicSettings, WarehouseSettings
from broadsheet.tasks.enrich import taxonomy_for
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.migrate import available_migrations, create_views, migrate
from broadsheet.warehouse.runs import record_topics

# The view files as they were at schema versions 8 (before article_facts) and 11 (before the aggregates): a
# warehouse made by those releases.
VIEWS_0008 = Path(__file__).resolve().parent / "fixtures" / "views_0008"
VIEWS_0011 = Path(__file__).resolve().parent / "fixtures" / "views_0011"


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
        where t.n = (b.i - case when b.i % 10 = 3 then 3 else 0 end + r) % 17""")  # copies: their story's topic
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
    """Every view's rows, in a fixed order: of ``columns`` (by view), else all of them (a view may gain columns).

    Floats are rounded to 12 decimals: a mean summed in another order (DuckDB's avg over threads, or
    topic_trends' exact decimal sums) may differ in the last bit."""
    columns = columns or view_columns(conn)
    quoted = {name: ", ".join(f'"{column}"' for column in cols) for name, cols in columns.items()}
    return {name: sorted((_rounded(row) for row in conn.execute(f"select {quoted[name]} from {name}").fetchall()),
                         key=repr) for name in quoted}


def _rounded(row: tuple) -> tuple:
    return tuple(round(value, 12) if isinstance(value, float) else value for value in row)


def companions(conn: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, list[tuple]]:
    return {name: conn.execute("select entity_id, name, entity_type, articles, stories, last_day "
                               "from entity_companions(?)", [name]).fetchall() for name in names}


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


def test_upgrading_a_warehouse_of_schema_11_keeps_every_view_and_entity_companions(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("set timezone = 'UTC'")
    migrate(conn, migrations_before(12, tmp_path / "older"))
    create_views(conn, VIEWS_0011)
    fill(conn)
    facts = (available_migrations()[9].path).read_text(encoding="utf-8")  # 0010, as its loads kept them
    conn.execute("insert into article_facts " + facts.split("insert into article_facts", 1)[1])
    columns = view_columns(conn)
    before, named = answers(conn, columns), companions(conn, ["Entity 0", "Entity 6", "Entity 29", "Nobody"])
    conn.close()

    conn = connect(WarehouseSettings(path=path))  # a writer migrates and re-creates the views
    try:
        assert 12 in {r[0] for r in conn.execute("select version from schema_migrations").fetchall()}
        after, named_after = answers(conn, columns), companions(conn, list(named))
    finally:
        conn.close()
    assert sorted(before) == sorted(after)
    for name, rows in before.items():
        assert after[name] == rows, f"view {name} answers differently after the upgrade"
    assert named_after == named
    assert len(named["Entity 6"]) > 5 and named["Nobody"] == []
    assert len(before["topic_trends"]) > 20 and any(row[4] < row[3] for row in before["topic_trends"])  # copies
    assert any(row[6] > 1 for row in before["duplicate_clusters"])
    assert derived_rows(WarehouseSettings(path=path)) == derived_rows(WarehouseSettings(path=path), rebuilt=True)


def older_warehouse(path: Path, tmp_path: Path, articles: int) -> WarehouseSettings:
    """A warehouse filled as a release before article_facts left it, then upgraded by a writer."""
    conn = duckdb.connect(str(path))
    conn.execute("set timezone = 'UTC'")
    migrate(conn, migrations_before(10, tmp_path / "older"))
    fill(conn, articles)
    conn.close()
    target = WarehouseSettings(path=path)
    connect(target).close()
    return target


def assert_derived_rows_are_rebuilt(target: WarehouseSettings) -> None:
    kept, rebuilt = derived_rows(target), derived_rows(target, rebuilt=True)
    for table, rows in rebuilt.items():
        assert kept[table] == rows, f"{table} differs from what the migrations compute from the base tables"


def test_loads_and_revisions_keep_facts_and_aggregates_equal_to_a_rebuild(tmp_path: Path) -> None:
    target = older_warehouse(tmp_path / "w.duckdb", tmp_path, 120)
    assert_derived_rows_are_rebuilt(target)

    wire = article("https://wire.example/rates", WIRE, source="wire")
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    load(target, batch_of(wire, copy))
    assert_derived_rows_are_rebuilt(target)
    revised = article("https://paper.example/rates", WIRE + " Corrected: the decision came on Wednesday.",
                      source="paper", seen=DAY + timedelta(hours=5))
    earlier = article("https://paper.example/rates", WIRE + " First draft.", source="paper",
                      seen=DAY - timedelta(hours=2))  # seen before the others, loaded after them
    load(target, batch_of(revised), run_id="run2")
    assert_derived_rows_are_rebuilt(target)
    load(target, batch_of(earlier, article("https://s1.example/a/1", FLOOD, source="source-1",
                                           seen=DAY + timedelta(days=400))), run_id="run3")
    assert_derived_rows_are_rebuilt(target)
    load(target, batch_of(revised, earlier), run_id="run4")  # again: nothing changes
    assert_derived_rows_are_rebuilt(target)

    # a story's original revised to a later publication time: the copy, untouched by the load, becomes it
    story = ("The city council voted on Monday to close the old tram depot and sell the land for housing. "
             "Residents said the plan ignored the depot's history, and the mayor promised a public hearing "
             "before any sale. Trade unions asked for the depot workers to be moved to the new bus garage.")
    first = article("https://one.example/x", story, source="one", title="First")
    second = article("https://two.example/x", story + " Copy.", source="two", title="Second",
                     published=DAY + timedelta(hours=1))
    load(target, batch_of(first, second), run_id="run5")
    later = article("https://one.example/x", story + " Update: more rain.", source="one", title="Later",
                    seen=DAY + timedelta(days=1), published=DAY + timedelta(hours=2))
    load(target, batch_of(later), run_id="run6")
    assert_derived_rows_are_rebuilt(target)

    conn = duckdb.connect(str(target.path))
    conn.execute("set timezone = 'UTC'")
    try:
        rows = conn.execute("select version, versions, is_latest, match_kind, url_match_kind from article_versions "
                            "where canonical_url = 'https://paper.example/rates' order by version").fetchall()
        assert rows == [(1, 3, False, "revision", "revision"), (2, 3, False, "exact", "revision"),
                        (3, 3, True, "revision", "revision")]
        latest = conn.execute("select versions from latest_articles "
                              "where canonical_url = 'https://s1.example/a/1'").fetchall()
        assert latest == [(4,)]  # the synthetic URL's three versions and the loaded one
        assert conn.execute("select copies, sources from duplicate_clusters "
                            "where original_article_id = ?", [wire.article_id]).fetchall() == [(2, 2)]
        assert conn.execute("select original_title, copies, first_appeared_at from duplicate_clusters "
                            "where original_article_id = ?", [second.article_id]).fetchall() == [
            ("Second", 2, DAY + timedelta(hours=1))]
    finally:
        conn.close()


def test_reenrichment_and_rekeys_keep_facts_and_aggregates_equal_to_a_rebuild(tmp_path: Path) -> None:
    from dataclasses import replace

    from helpers import enrichment

    from broadsheet.config.records import Batch, Rekey
    from broadsheet.tasks.extract.identity import article_id

    target = older_warehouse(tmp_path / "w.duckdb", tmp_path, 60)
    wire = article("https://wire.example/rates", WIRE, source="wire")
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    flood = article("https://coast.example/flood", FLOOD, source="coast")
    load(target, batch_of(wire, copy, flood))

    # re-enriched: other entities and another top topic, for an article of a cluster and a lone one
    again = [enrichment(copy, entity="Ana Ruiz", topic="politics"), enrichment(flood, entity="Lisbon", topic="weather")]
    load(target, Batch(enrichments=again, reenriched=[copy.article_id, flood.article_id]), run_id="reenrich1")
    assert_derived_rows_are_rebuilt(target)
    assert derived_rows(target)["entity_mention_totals"] == derived_rows(target, rebuilt=True)["entity_mention_totals"]

    # an article already held given enrichment rows of another enricher (not a re-enrichment: rows are added)
    extra = replace(enrichment(wire, entity="Jonas Berg", topic="economy"), entity_enricher="ner@2",
                    topic_enricher="topics@2")
    load(target, Batch([wire], [extra]), run_id="again")
    assert_derived_rows_are_rebuilt(target)

    # re-keyed: one keeps its rows under a new id, one changed and loses them; the cluster founder moves
    old = replace(article("https://coast.example/a", FLOOD + " Later."), canonical_url="https://coast.example/./a")
    old = replace(old, article_id=article_id(old.canonical_url, old.content_hash))
    load(target, batch_of(old), run_id="run2")
    new = article("https://coast.example/a", FLOOD + " Later.")
    changed = replace(article("https://wire.example/rates", WIRE + " Updated."), title="Rates up")
    rekeys = [Rekey(old.article_id, new.article_id, old.canonical_url, new.canonical_url, True),
              Rekey(wire.article_id, changed.article_id, wire.canonical_url, changed.canonical_url, False)]
    load(target, Batch([new, changed], [], [], rekeyed=rekeys), run_id="reextract1")
    assert_derived_rows_are_rebuilt(target)
    kept = derived_rows(target)
    assert not any(row[0] in (old.article_id, wire.article_id) for row in kept["article_facts"])


def test_a_load_failing_while_it_rewrites_the_kept_rows_leaves_them_as_they_were(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from broadsheet.config.errors import WarehouseError
    from broadsheet.warehouse import loading

    target = older_warehouse(tmp_path / "w.duckdb", tmp_path, 40)
    wire = article("https://wire.example/rates", WIRE, source="wire")
    load(target, batch_of(wire))
    before = derived_rows(target)

    def fail(conn: duckdb.DuckDBPyConnection) -> None:  # after article_facts rows were taken out and put back
        raise duckdb.IOException("disk I/O error while writing")

    monkeypatch.setattr(loading, "update_aggregates", fail)
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    with pytest.raises(WarehouseError) as raised:
        load(target, batch_of(copy), run_id="run2")
    assert raised.value.transient and derived_rows(target) == before  # rolled back whole, the batch still staged
    monkeypatch.undo()
    assert load(target, batch_of(copy), run_id="run3").articles == 1  # the staged one, then this one (nothing new)
    assert_derived_rows_are_rebuilt(target)
    assert len(derived_rows(target)["article_facts"]) == len(before["article_facts"]) + 1
