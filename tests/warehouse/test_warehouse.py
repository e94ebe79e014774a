"""The warehouse: migrations, staging, idempotent loads, locks and read-only access."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from helpers import make_batch

from broadsheet.config import QueryError, WarehouseError
from broadsheet.config.records import (
    Article,
    Batch,
    Page,
)
from broadsheet.warehouse.archive import archive_dir
from broadsheet.warehouse.backend import load_extension
from broadsheet.warehouse.connection import connect, connect_reader
from broadsheet.warehouse.loading import KEYS, load_staged, load_staged_batch
from broadsheet.warehouse.migrate import available_migrations, migrate
from broadsheet.warehouse.reports import run_query, warehouse_report
from broadsheet.warehouse.staging import stage_batch, staged_batches, staging_dir

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
TABLES = ("sources", "runs", "fetches", "pages", "articles", "entities", "entity_aliases", "mentions", "topics",
          "article_topics", "rejections")


def counts(path: Path) -> dict[str, int]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
    finally:
        conn.close()


def load(path: Path, batch: Batch, run_id: str = "run1") -> int:
    stage_batch(batch, run_id, staging_dir(path))
    conn = connect(path)
    try:
        return load_staged(conn, staging_dir(path)).articles
    finally:
        conn.close()


def test_migrations_create_every_table_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    connect(path).close()
    conn = connect(path)
    try:
        versions = conn.execute("select version, name from schema_migrations").fetchall()
        assert versions == [(m.version, m.name) for m in available_migrations()]
        assert migrate(conn) == []  # nothing left to apply
        tables = {r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()}
        assert set(TABLES) <= tables
        assert {"entity_mention_counts", "topic_article_counts", "rejection_reasons", "subtopic_trends"} <= tables
    finally:
        conn.close()


def migrations_before(version: int, folder: Path) -> Path:
    """A folder holding the migrations older than ``version``: a warehouse as an earlier release left it."""
    folder.mkdir()
    for migration in available_migrations():
        if migration.version < version:
            (folder / migration.path.name).write_text(migration.path.read_text(encoding="utf-8"))
    return folder


def test_migration_0005_keeps_every_row_and_drops_the_keys(tmp_path: Path) -> None:
    older = migrations_before(5, tmp_path / "older")
    later = {"article_subtopics"}  # created by a migration after 0005
    tables = sorted({*TABLES, *KEYS, "article_clusters", "minhash_bands"} - later)
    current = duckdb.connect(str(tmp_path / "current.duckdb"))  # a batch loaded by today's code ...
    migrate(current)
    load_staged_batch(current, stage_batch(make_batch("a1"), "run1", tmp_path / "staging"))
    current.close()
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        migrate(conn, older)  # ... copied into a warehouse at version 4, in the columns it had then
        conn.execute(f"attach '{tmp_path / 'current.duckdb'}' as current (read_only)")
        for table in tables:
            columns = ", ".join(row[0] for row in conn.execute(f"describe {table}").fetchall()
                                if "nextval" not in str(row[4]))  # ids from sequences: this warehouse's own
            selected = columns.replace("content_gzip", "coalesce(content_gzip, ''::blob)")  # today: archived
            conn.execute(f"insert into {table} ({columns}) select {selected} from current.{table}")
        conn.execute("detach current")
        keyed = "select count(*) from duckdb_constraints() where constraint_type = 'PRIMARY KEY' and table_name = ?"
        assert conn.execute(keyed, ["mentions"]).fetchone() == (1,)
        before = {table: conn.execute(f"select count(*) from {table}").fetchone() for table in tables}
        assert before["mentions"] != (0,)
        assert 5 in [m.version for m in migrate(conn)]
        assert {table: conn.execute(f"select count(*) from {table}").fetchone() for table in tables} == before
        still_keyed = conn.execute("select distinct table_name from duckdb_constraints() "
                                   "where constraint_type = 'PRIMARY KEY' order by all").fetchall()
        assert [row[0] for row in still_keyed] == ["fetches", "loaded_batches", "rejections", "runs",
                                                    "schema_migrations", "sources", "topics"]  # bookkeeping only
        # The same rows loaded again (another batch) add nothing: the anti-join does what the keys did.
        assert load_staged_batch(conn, stage_batch(make_batch("a1"), "run2", tmp_path / "staging")) == 0
        after = {table: conn.execute(f"select count(*) from {table}").fetchone() for table in set(KEYS) - later}
        assert after == {table: before[table] for table in set(KEYS) - later}
    finally:
        conn.close()


def test_article_text_lengths_are_stored_by_loads_and_by_migration_0006(tmp_path: Path) -> None:
    older = migrations_before(6, tmp_path / "older")
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        migrate(conn, older)
        conn.execute("insert into articles (article_id, url, canonical_url, source_id, title, authors, "
                     "first_seen_at, text, content_hash, extractor, run_id) values "
                     "('old', 'u', 'u', 'src', 't', [], now(), 'Olá, Zürich', 'h', 'x', 'r')")
        assert 6 in [m.version for m in migrate(conn)]
        load_staged_batch(conn, stage_batch(make_batch("new", text="Ünïcode körper text."), "r", tmp_path / "staging"))
        rows = conn.execute("select article_id, text_chars from articles order by article_id").fetchall()
        assert rows == [("new", len("Ünïcode körper text.")), ("old", len("Olá, Zürich"))]  # characters, not bytes
    finally:
        conn.close()


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_create_things.sql").write_text("create table things (x integer);")
    (folder / "0002_break_things.sql").write_text("create table more (y integer); select * from nowhere;")
    conn = duckdb.connect(str(tmp_path / "m.duckdb"))
    with pytest.raises(WarehouseError, match=r"0002_break_things\.sql failed"):
        migrate(conn, folder)
    assert conn.execute("select version from schema_migrations").fetchall() == [(1,)]
    tables = {r[0] for r in conn.execute("select table_name from information_schema.tables").fetchall()}
    assert "more" not in tables


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "create_things.sql").write_text("select 1;")
    with pytest.raises(WarehouseError, match="NNNN_verb_object"):
        available_migrations(tmp_path)


def test_load_writes_every_table(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    assert load(path, make_batch()) == 1
    found = counts(path)
    assert {t: found[t] for t in ("articles", "pages", "entities", "entity_aliases", "mentions", "article_topics",
                                  "fetches", "rejections")} == dict.fromkeys(
        ("articles", "pages", "entities", "entity_aliases", "mentions", "article_topics", "fetches", "rejections"), 1)
    conn = duckdb.connect(str(path), read_only=True)
    row = conn.execute("select authors, published_at, text from articles").fetchone()
    page = conn.execute("select b.content_gzip, p.bytes, p.content_gzip from pages p join page_bodies b using (page_id)"
                        ).fetchone()
    conn.close()
    assert row == (["Ana Ruiz"], NOW, "Body text about Lisbon.")
    assert page is not None and gzip.decompress(page[0]) == b"<html>x</html>" and page[1] == 14
    assert page[2] is None  # the body is in the page archive, not in the table
    assert staged_batches(staging_dir(path)) == []  # staged folder removed after the commit


def _page_batch(article_id: str, url: str, body: bytes) -> Batch:
    page = Page(url, url, "src", body, "text/html", NOW)
    article = Article(article_id, url, url, "src", "Title", (), NOW, "en", "N", "Text.", "h" + article_id, NOW,
                      "test", page.page_id)
    return Batch([article], [], [page], [], [])


def test_page_bodies_are_archived_once_per_page_and_never_for_a_failed_load(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    archive = archive_dir(path)
    assert load(path, _page_batch("a1", "https://n.example/1", b"<p>one</p>")) == 1
    broken = stage_batch(_page_batch("a2", "https://n.example/2", b"<p>two</p>"), "run2", staging_dir(path))
    (broken / "articles.jsonl").write_bytes(b'{"article_id": "a2", "url": null}\n')  # refused: NOT NULL
    stage_batch(_page_batch("a3", "https://n.example/1", b"<p>one</p>"), "run3", staging_dir(path))  # page again
    conn = connect(path)
    try:
        result = load_staged(conn, staging_dir(path))
        # A warehouse older than the archive keeps its bodies in the table: the view reads them there too.
        conn.execute("insert into pages (page_id, url, final_url, source_id, content_type, content_gzip, bytes, "
                     "fetched_at) values ('old', 'https://n.example/old', 'https://n.example/old', 'src', "
                     "'text/html', ?, 5, now())", [gzip.compress(b"<old>")])
        bodies = dict(conn.execute("select p.url, b.content_gzip from page_bodies b join pages p using (page_id)"
                                   ).fetchall())
    finally:
        conn.close()
    assert (result.batches, result.articles, result.quarantined) == (1, 1, 1)
    assert {url: gzip.decompress(body) for url, body in bodies.items()} == {
        "https://n.example/1": b"<p>one</p>", "https://n.example/old": b"<old>"}
    assert len(list(archive.glob("2*.parquet"))) == 1  # the first batch's; none for the refused or repeated page


def test_a_load_whose_archive_file_cannot_be_written_keeps_its_batch(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    connect(path).close()
    shutil.rmtree(archive_dir(path))
    archive_dir(path).write_text("not a folder")
    staged = stage_batch(make_batch(), "run1", staging_dir(path))
    conn = duckdb.connect(str(path))  # not `connect`, which would (fail to) prepare the archive
    try:
        with pytest.raises(WarehouseError) as caught:
            load_staged(conn, staging_dir(path))
        assert conn.execute("select count(*) from pages").fetchone() == (0,)
    finally:
        conn.close()
    assert caught.value.transient and staged_batches(staging_dir(path)) == [staged]


def test_loading_the_same_articles_again_adds_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    load(path, make_batch())
    before = counts(path)
    assert load(path, make_batch(), run_id="run2") == 0
    after = counts(path)
    # Requests and rejections are per run; everything about the article is not duplicated.
    assert {t: after[t] - before[t] for t in TABLES} == {**dict.fromkeys(TABLES, 0), "fetches": 1, "rejections": 1}


def test_a_staged_batch_is_loaded_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    staged = stage_batch(make_batch(), "run1", staging_dir(path))
    copy = staging_dir(path) / "copy"
    copy.mkdir()
    for file in staged.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())  # the same batch id twice (a crash before cleanup)
    conn = connect(path)
    result = load_staged(conn, staging_dir(path))
    conn.close()
    assert (result.batches, result.articles) == (2, 1)
    assert counts(path)["fetches"] == 1


def test_staging_a_batch_while_another_is_loaded_and_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other batch in flight is loaded and its folder deleted while this one is being staged: staging
    must not trip over it (it used to flush every folder in the staging area, and failed on a vanished one)."""
    import broadsheet.warehouse.staging as staging_module

    folder = tmp_path / "staging"
    other = stage_batch(make_batch(), "run-1", folder)
    real_open, deleted = os.open, []

    def open_while_the_other_is_deleted(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if not deleted and any(p != other and not p.name.startswith(".") for p in folder.iterdir()):
            deleted.append(other)  # this batch was just renamed into place: the other's load finishes now
            shutil.rmtree(other)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(staging_module.os, "open", open_while_the_other_is_deleted)
    staged = stage_batch(make_batch(), "run-1", folder)
    assert not other.exists() and staged_batches(folder) == [staged]


def test_partial_staging_is_ignored(tmp_path: Path) -> None:
    folder = staging_dir(tmp_path / "w.duckdb")
    (folder / ".20260101-abc.partial").mkdir(parents=True)
    assert staged_batches(folder) == []


def test_a_corrupt_staged_batch_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    broken = staging_dir(path) / "20260101T000000-bad"
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    conn = connect(path)
    with pytest.raises(WarehouseError, match="no readable manifest") as caught:
        load_staged_batch(conn, broken)  # load_staged quarantines it: see test_reliability_warehouse.py
    conn.close()
    assert caught.value.code == "corrupt_stage"


def test_staging_into_an_unwritable_place_is_a_warehouse_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(WarehouseError, match="cannot stage a batch"):
        stage_batch(make_batch(), "run1", blocker / "staging")


def test_a_locked_warehouse_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "time.sleep(60)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError, match="another process is writing") as caught:
            connect(path)
        assert caught.value.code == "locked" and caught.value.transient
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    connect(path).close()  # usable again once the holder is gone


def test_a_load_can_connect_while_this_process_reads(tmp_path: Path) -> None:
    # The ingest flow reads (known articles, validators) for one batch while it loads the other.
    path = tmp_path / "w.duckdb"
    load(path, make_batch("a1"))
    reader = connect_reader(path)
    try:
        reader.execute("begin transaction")
        assert reader.execute("select count(*) from articles").fetchone() == (1,)
        writer = connect(path)  # checkpointed on every connect, this failed: "other write transactions active"
        load_staged_batch(writer, stage_batch(make_batch("a2"), "run2", tmp_path / "staging"))
        writer.close()
        assert reader.execute("select count(*) from articles").fetchone() == (1,)  # its snapshot
        reader.execute("commit")
    finally:
        reader.close()
    assert counts(path)["articles"] == 2


def test_a_writer_can_migrate_while_this_process_reads(tmp_path: Path) -> None:
    # An older warehouse read first (a reader never migrates), then opened to write by the same process.
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    migrate(conn, migrations_before(6, tmp_path / "older"))
    conn.close()
    reader = connect_reader(path)
    try:
        reader.execute("begin transaction")
        assert reader.execute("select count(*) from articles").fetchone() == (0,)
        writer = connect(path)  # migrating, it failed here: "Cannot CHECKPOINT: other write transactions active"
        assert load_staged_batch(writer, stage_batch(make_batch("a1"), "run1", tmp_path / "staging")) == 1
        writer.close()
        reader.execute("commit")
    finally:
        reader.close()
    conn = duckdb.connect(str(path))  # checkpointed when the last connection closed: it opens, migrated
    try:
        assert conn.execute("select article_id, text_chars from articles").fetchall() == [
            ("a1", len("Body text about Lisbon."))]
        latest = max(m.version for m in available_migrations())
        assert conn.execute("select max(version) from schema_migrations").fetchone() == (latest,)
    finally:
        conn.close()


def test_read_only_access(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseError, match="run `broadsheet ingest` first") as caught:
        run_query(path, "select 1")
    assert caught.value.code == "missing"
    load(path, make_batch())
    columns, rows = run_query(path, "select title, language from articles")
    assert (columns, rows) == (["title", "language"], [("Title", "en")])
    with pytest.raises(QueryError, match="query failed"):
        run_query(path, "delete from articles")
    assert counts(path)["articles"] == 1


def test_report_summarises_the_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    load(path, make_batch())
    report = warehouse_report(path)
    assert report["tables"]["articles"] == 1
    assert report["top_entities"] == [{"name": "Lisbon", "entity_type": "place", "articles": 1, "mentions": 1}]
    assert report["rejections"][0]["error_type"] == "http_status"
    assert report["rejections"][0]["example_message"] == "answered HTTP 404"  # the status, not just the reason


def test_extensions_load_from_their_wheels(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "x.duckdb"))
    load_extension(conn, "fts")
    loaded = conn.execute("select loaded from duckdb_extensions() where extension_name = 'fts'").fetchone()
    assert loaded == (True,)
    with pytest.raises(WarehouseError, match="not installed"):
        load_extension(conn, "no_such_extension")


def test_a_warehouse_whose_page_archive_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    archive_dir(path).write_text("not a folder")
    with pytest.raises(WarehouseError, match="cannot prepare the page archive") as caught:
        connect(path)
    assert caught.value.code == "io"


@pytest.mark.parametrize("damage", ["checksum", "garbage"])
def test_a_corrupt_warehouse_is_called_corrupt_not_locked(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "w.duckdb"
    load(path, make_batch())
    if damage == "checksum":  # "... does not match stored checksum 0 in block at ...": "block" held "lock"
        with path.open("r+b") as handle:
            handle.seek(4096)
            handle.write(b"\0" * 8192)
    else:
        path.write_bytes(b"not a database" * 1000)
    for read_only in (False, True):
        with pytest.raises(WarehouseError, match=r"is corrupt .*restore it from a backup") as caught:
            connect(path, read_only=read_only).execute("select count(*) from articles")
        assert (caught.value.code, caught.value.transient) == ("corrupt", False)
