"""The DuckLake backend against the machine's real PostgreSQL, and the same scenarios on DuckDB.

Each test creates its own catalog schema (a fresh name) and data folder, and drops the schema after,
so the suite can run twice. Without a PostgreSQL on 127.0.0.1:5432 the DuckLake tests are skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import DAY, FLOOD, WIRE, article, batch_of, load, query

from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.backend import ducklake_ddl, in_turn, load_extension
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.search import open_index, refresh_index, search_text

CATALOG = "host=127.0.0.1 port=5432 dbname=test user=postgres"
REPO = Path(__file__).resolve().parents[2]


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def drop_schema(schema: str) -> None:
    conn = duckdb.connect()
    try:
        load_extension(conn, "postgres")
        conn.execute(f"attach '{CATALOG}' as pg (type postgres)")
        conn.execute("call postgres_execute('pg', ?)", [f"drop schema if exists {schema} cascade"])
    finally:
        conn.close()


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[WarehouseSettings]:
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432: the DuckLake backend tests need it "
                    "(trust auth, database `test`)")
    schema = f"broadsheet_test_{uuid.uuid4().hex[:12]}"
    yield WarehouseSettings(backend="ducklake", catalog=CATALOG, catalog_schema=schema,
                            data_path=str(tmp_path / "lake"), path=tmp_path / "local.duckdb")
    drop_schema(schema)


@pytest.fixture(params=["duckdb", "ducklake"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> WarehouseSettings:
    if request.param == "duckdb":
        return WarehouseSettings(path=tmp_path / "w.duckdb")
    return request.getfixturevalue("lake")  # type: ignore[no-any-return]


def test_ducklake_ddl_drops_keys_and_sequences() -> None:
    sql = ("create sequence fetch_ids;\ncreate table f (fetch_id bigint primary key default nextval('fetch_ids'), "
           "url varchar not null);\ncreate table m (a varchar not null, b varchar, primary key (a, b));")
    assert ducklake_ddl(sql) == ("\ncreate table f (fetch_id bigint, url varchar not null);\n"
                                 "create table m (a varchar not null, b varchar);")


def test_the_schema_and_views_are_the_same_on_both_backends(target: WarehouseSettings) -> None:
    conn = connect(target)
    try:
        tables = {r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_catalog = current_database()").fetchall()}
    finally:
        conn.close()
    assert {"articles", "article_clusters", "minhash_bands", "embeddings", "latest_articles", "article_versions",
            "duplicate_clusters", "daily_entity_counts", "entity_cooccurrence", "topic_trends",
            "source_health", "source_run_health"} <= tables


def test_loads_are_idempotent_and_cluster_on_both_backends(target: WarehouseSettings) -> None:
    wire = article("https://wire.example/rates", WIRE, source="wire")
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    assert load(target, batch_of(wire, copy)).articles == 2
    assert load(target, batch_of(wire, copy), run_id="run2").articles == 0
    revised = article("https://paper.example/rates", WIRE + " Corrected: the decision came on Wednesday.",
                      source="paper", seen=DAY + timedelta(hours=5))
    assert load(target, batch_of(revised), run_id="run3").articles == 1
    assert query(target, "select count(*) from articles") == [(3,)]
    assert query(target, "select count(*), count(distinct entity_id) from entities") == [(1, 1)]
    assert query(target, "select count(*) from mentions") == [(0,)]
    assert query(target, "select count(*) from article_entities") == [(3,)]
    assert query(target, "select match_kind, count(*) from article_clusters group by all order by 1") == [
        ("exact", 1), ("original", 1), ("revision", 1)]
    assert query(target, "select copies, sources from duplicate_clusters") == [(2, 2)]
    assert query(target, "select article_id from latest_articles order by 1") == sorted(
        [(wire.article_id,), (revised.article_id,)])


def test_search_works_on_both_backends(target: WarehouseSettings) -> None:
    load(target, batch_of(article("https://paper.example/flood", FLOOD, title="Harbour flooded"),
                          article("https://wire.example/rates", WIRE, title="Rates up")))
    conn = open_index(target)
    try:
        refresh_index(conn)
        assert [h.title for h in search_text(conn, "harbour")] == ["Harbour flooded"]
    finally:
        conn.close()


def test_concurrent_writers_take_turns_on_ducklake(lake: WarehouseSettings) -> None:
    connect(lake).close()
    first, second = connect(lake), connect(lake)
    try:
        first.execute("begin transaction")
        first.execute("update writer_turns set turn = turn + 1")
        second.execute("begin transaction")
        second.execute("update writer_turns set turn = turn + 1")
        first.execute("commit")
        with pytest.raises(duckdb.TransactionException):
            second.execute("commit")
        assert in_turn(second, lambda c: c.execute("select turn from writer_turns").fetchone()) == (2,)
    finally:
        first.close()
        second.close()


def _folder(root: Path, name: str, stories: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for slug, text in stories.items():
        (folder / f"{slug}.txt").write_text(f"{slug.replace('-', ' ').title()}\n{text}\n", encoding="utf-8")
    return folder


def _stories(prefix: str, count: int) -> dict[str, str]:
    """Distinct stories (no two near duplicates) naming a few shared entities."""
    import random

    words = ["harbour", "council", "budget", "railway", "school", "hospital", "election", "festival",
             "museum", "bridge", "market", "river", "factory", "airport", "stadium", "library", "tram",
             "vineyard", "court", "police", "farmers", "union", "strike", "tax", "housing", "wages",
             "tourism", "fishing", "energy", "solar", "storm", "drought", "orchestra", "theatre", "archive"]
    cities = ["Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Rome", "Vienna", "Prague"]
    stories = {}
    for i in range(count):
        pick = random.Random(f"{prefix}-{i}").sample(words, 24)
        stories[f"{prefix}-{i}"] = (f"Officials in {cities[i % len(cities)]} said on Monday that "
                                    + " ".join(pick[:12]) + ". Mayor Ana Silva met Prime Minister Jonas Berg "
                                    "about " + " and ".join(pick[12:]) + ".")
    return stories


@pytest.mark.slow
def test_two_concurrent_ingests_on_ducklake_lose_and_duplicate_nothing(lake: WarehouseSettings,
                                                                       tmp_path: Path) -> None:
    shared = _stories("shared", 3)
    folders = [_folder(tmp_path, f"site{n}", {**_stories(f"own{n}", 4), **shared}) for n in (1, 2)]
    config = tmp_path / "lake.toml"
    config.write_text(f'[warehouse]\nbackend = "ducklake"\ncatalog = "{lake.catalog}"\n'
                      f'catalog_schema = "{lake.catalog_schema}"\ndata_path = "{lake.data_path}"\n'
                      f'path = "{lake.path}"\n[pipeline]\nbatch_size = 2\n', encoding="utf-8")
    connect(lake).close()  # migrated once, as a deployment would be before its workers start
    runs = []
    for n, folder in enumerate(folders, 1):
        env = {**os.environ, "PREFECT_HOME": str(tmp_path / f"prefect{n}"), "PREFECT_API_URL": ""}
        runs.append(subprocess.Popen(
            [sys.executable, "-m", "broadsheet.flows.cli", "ingest", str(folder), "--config", str(config),
             "--quiet"], cwd=tmp_path / f"site{n}", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    results = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert query(lake, "select count(*), count(distinct article_id) from articles") == [(14, 14)]
    assert query(lake, "select count(*) - count(distinct entity_id) from entities") == [(0,)]
    assert query(lake, "select count(*) - count(distinct (topic_id, taxonomy_version)) from topics") == [(0,)]
    assert query(lake, "select count(*) - count(distinct (article_id, entity_id, enricher)) "
                       "from article_entities") == [(0,)]
    assert query(lake, "select count(*), count(distinct article_id) from article_clusters") == [(14, 14)]
    assert query(lake, "select count(*) from embeddings") == [(14,)]
    # each shared story is one cluster with one original, though two workers loaded its copies at once
    assert query(lake, "select count(*) from duplicate_clusters") == [(11,)]
    # Both workers share one staging folder here (one machine), so either may load the other's batches.
    assert query(lake, "select count(*), sum(loaded) from runs where status = 'completed'") == [(2, 14)]
    assert query(lake, "select count(*) - count(distinct batch_id) from loaded_batches") == [(0,)]


def test_a_rekeyed_article_is_replaced_and_stays_joinable_on_both_backends(target: WarehouseSettings) -> None:
    from dataclasses import replace

    from broadsheet.config.records import Batch, Rekey
    from broadsheet.tasks.extract.identity import article_id

    old = replace(article("https://coast.example/a", FLOOD), canonical_url="https://coast.example/./a?sid=1")
    old = replace(old, article_id=article_id(old.canonical_url, old.content_hash))
    wire = article("https://wire.example/rates", WIRE)
    load(target, batch_of(old, wire))
    new = article("https://coast.example/a", FLOOD)
    changed = replace(article("https://wire.example/rates", WIRE + " Updated."), title="Rates up")
    rekeys = [Rekey(old.article_id, new.article_id, old.canonical_url, new.canonical_url, True),
              Rekey(wire.article_id, changed.article_id, wire.canonical_url, changed.canonical_url, False)]
    load(target, Batch([new, changed], [], [], rekeyed=rekeys), run_id="reextract1")

    assert query(target, "select article_id from articles order by 1") == sorted(
        [(new.article_id,), (changed.article_id,)])
    # the unchanged article's rows moved to its new id; the changed one's were dropped (to be redone)
    assert query(target, "select article_id from article_entities") == [(new.article_id,)]
    assert query(target, "select article_id, cluster_id from article_clusters order by 1") == sorted(
        [(new.article_id, new.article_id), (changed.article_id, changed.article_id)])
    assert query(target, "select old_article_id, new_article_id, run_id from article_key_changes order by 1") == \
        sorted([(old.article_id, new.article_id, "reextract1"), (wire.article_id, changed.article_id, "reextract1")])
    # the versions kept at load time follow the new ids: no row of an old id is left
    assert query(target, "select article_id, is_latest from article_facts order by 1") == sorted(
        [(new.article_id, True), (changed.article_id, True)])


def test_versions_kept_at_load_time_answer_the_same_on_both_backends(target: WarehouseSettings) -> None:
    wire = article("https://wire.example/rates", WIRE, source="wire")
    copy = article("https://paper.example/rates", WIRE, source="paper", seen=DAY + timedelta(hours=1))
    load(target, batch_of(wire, copy))
    revised = article("https://paper.example/rates", WIRE + " Corrected: the decision came on Wednesday.",
                      source="paper", seen=DAY + timedelta(hours=5))
    earlier = article("https://paper.example/rates", WIRE + " First draft.", source="paper",
                      seen=DAY - timedelta(hours=2))  # seen before the others, loaded after them
    flood = article("https://city.example/flood", FLOOD, source="city")
    load(target, batch_of(revised), run_id="run2")
    load(target, batch_of(earlier, flood), run_id="run3")
    assert query(target, "select version, versions, is_latest, match_kind, url_match_kind from article_versions "
                         "where canonical_url = 'https://paper.example/rates' order by version") == [
        (1, 3, False, "revision", "revision"), (2, 3, False, "exact", "revision"), (3, 3, True, "revision", "revision")]
    assert query(target, "select article_id, versions from latest_articles order by 1") == sorted(
        [(wire.article_id, 1), (revised.article_id, 3), (flood.article_id, 1)])
    assert query(target, "select copies, sources, exact_copies from duplicate_clusters order by copies desc") == [
        (2, 2, 0), (1, 1, 0)]
    # every article names Maria Costa (helpers.enrichment): she has no companions, and an unknown name none either
    assert query(target, "select count(*) from entity_companions('Maria Costa')") == [(0,)]
    assert query(target, "select articles, stories from daily_entity_counts where name = 'Maria Costa'") == [(3, 2)]


OUTSIDE_SQL = [
    "select * from read_text('{secret}')",
    "select * from read_csv('{secret}')",
    "select * from read_parquet('{outside}/*.parquet')",
    "copy (select 'garbage') to '{outside}/x.csv' (format csv)",
    "attach '{outside}/new.duckdb' as fresh (read_write)",
    "set enable_external_access = true",
    "set allowed_directories = ['/']",
]


def test_a_ducklake_reader_can_neither_read_nor_write_outside(lake: WarehouseSettings, tmp_path: Path) -> None:
    """A DuckLake reader had no sandbox: `broadsheet query "select * from read_text(...)"` read any file."""
    from broadsheet.config.errors import QueryError
    from broadsheet.warehouse.reports import run_query

    load(lake, batch_of(article("https://n.example/a", WIRE)))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("password\nhunter2\n")
    duckdb.sql(f"copy (select 'hunter2' as password) to '{outside / 'old.parquet'}' (format parquet)")
    before = sorted(outside.iterdir())

    for sql in OUTSIDE_SQL:
        with pytest.raises(QueryError) as raised:
            run_query(lake, sql.format(secret=outside / "secret.csv", outside=outside))
        assert "hunter2" not in raised.value.message, sql

    assert sorted(outside.iterdir()) == before
    assert run_query(lake, "select count(*) from articles")[1] == [(1,)]
    assert run_query(lake, "select count(*) from page_bodies")[1] == [(1,)]


def test_a_ducklake_export_writes_its_folder_only(lake: WarehouseSettings, tmp_path: Path) -> None:
    from broadsheet.warehouse.export import export_parquet

    load(lake, batch_of(article("https://n.example/a", WIRE)))
    conn = connect(lake, read_only=True, writes_to=tmp_path / "out")
    try:
        result = export_parquet(conn, tmp_path / "out")
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            conn.execute(f"copy (select 1) to '{tmp_path / 'elsewhere.csv'}'")
    finally:
        conn.close()
    assert result.rows["articles"] == 1 and (tmp_path / "out" / "entities.parquet").exists()
    assert not (tmp_path / "elsewhere.csv").exists()
