"""A read-only query never writes a file and never reads one outside the warehouse; the page archive is
found beside the file opened, wherever it was copied or moved (issue 26, items 2 and 9)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from helpers import article, batch_of, load

from broadsheet.config.errors import QueryError, WarehouseError
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.reports import run_query

BODY = "The harbour plan was approved on Monday after a long debate in the council."


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w" / "warehouse.duckdb"
    path.parent.mkdir()
    load(path, batch_of(article("https://n.example/a", BODY)))
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("sql", [
    "copy (select 'garbage') to '{warehouse}' (format csv)",
    "copy (select 'garbage') to '{archive}/x.parquet' (format parquet)",
    "copy (select 'garbage') to '{first_page_file}' (format parquet, use_tmp_file false)",
    "attach '{outside}/new.duckdb' as fresh (read_write)",
    "attach '{warehouse}' as again (read_write)",
    "select * from read_text('{secret}')",
    "select * from read_csv('{secret}')",
    "set allowed_directories = ['/']",
    "set lock_configuration = false",
    "export database '{outside}/dump'",
    "select 1; copy (select 1) to '{outside}/after.csv'",
])
def test_a_read_only_query_can_neither_write_nor_read_outside(warehouse: Path, tmp_path: Path, sql: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text("password\nhunter2\n")
    archive = warehouse.with_name(warehouse.name + ".pages")
    first_page_file = next(p for p in sorted(archive.glob("*.parquet")) if p.name != "empty.parquet")
    before = snapshot(tmp_path)
    with pytest.raises(QueryError) as raised:
        run_query(warehouse, sql.format(warehouse=warehouse, archive=archive, outside=outside, secret=secret,
                                        first_page_file=first_page_file))
    assert raised.value.code == "query"
    assert snapshot(tmp_path) == before
    assert "hunter2" not in raised.value.message


def test_a_reader_cannot_turn_file_access_back_on(warehouse: Path) -> None:
    conn = connect(warehouse, read_only=True)
    try:
        for sql in ("set enable_external_access = true", "reset lock_configuration", "set threads = 1"):
            with pytest.raises(Exception, match=r"locked|Cannot enable"):
                conn.execute(sql)
        assert conn.execute("select current_setting('lock_configuration')").fetchone() == (True,)
    finally:
        conn.close()


def test_queries_still_read_the_tables_and_the_page_bodies(warehouse: Path) -> None:
    assert run_query(warehouse, "select count(*) from articles")[1] == [(1,)]
    rows = run_query(warehouse, "select content_gzip from page_bodies")[1]
    assert gzip.decompress(rows[0][0]).decode() == BODY
    assert run_query(warehouse, "describe articles")[1]
    assert run_query(warehouse, "with a as (select 1 as n) select n from a")[1] == [(1,)]


def test_a_copied_warehouse_reads_its_own_page_archive(warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy" / "warehouse.duckdb"
    shutil.copytree(warehouse.parent, copy.parent)
    original_archive = warehouse.with_name(warehouse.name + ".pages")
    for file in original_archive.glob("*.parquet"):  # the original's bodies change: the copy must not see it
        if file.name != "empty.parquet":
            file.unlink()
    rows = run_query(copy, "select content_gzip from page_bodies")[1]
    assert [gzip.decompress(r[0]).decode() for r in rows] == [BODY]


def test_a_moved_warehouse_reads_its_bodies_before_anything_writes_to_it(warehouse: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.move(warehouse.parent, moved)
    rows = run_query(moved / warehouse.name, "select content_gzip from page_bodies")[1]
    assert [gzip.decompress(r[0]).decode() for r in rows] == [BODY]


def test_a_missing_page_archive_is_a_clear_message_and_the_rest_still_reads(warehouse: Path) -> None:
    shutil.rmtree(warehouse.with_name(warehouse.name + ".pages"))
    assert run_query(warehouse, "select count(*) from articles")[1] == [(1,)]
    with pytest.raises(QueryError, match=r"page archive .*warehouse.duckdb.pages is missing.*\.pages folder"):
        run_query(warehouse, "select * from page_bodies")


def test_export_writes_only_its_folder(warehouse: Path, tmp_path: Path) -> None:
    from broadsheet.warehouse.export import export_parquet

    conn = connect(warehouse, read_only=True, writes_to=tmp_path / "out")
    try:
        result = export_parquet(conn, tmp_path / "out")
        with pytest.raises(Exception, match="disabled by configuration"):
            conn.execute(f"copy (select 1) to '{tmp_path / 'elsewhere.csv'}'")
    finally:
        conn.close()
    assert result.rows["articles"] == 1 and (tmp_path / "out" / "entities.parquet").exists()
    assert not (tmp_path / "elsewhere.csv").exists()


def test_export_to_an_existing_file_is_a_clear_error(warehouse: Path, tmp_path: Path) -> None:
    from broadsheet.warehouse.export import export_parquet

    taken = tmp_path / "taken"
    taken.write_text("mine")
    conn = connect(warehouse, read_only=True, writes_to=taken)
    try:
        with pytest.raises(WarehouseError, match="cannot write the export"):
            export_parquet(conn, taken)
    finally:
        conn.close()
    assert taken.read_text() == "mine"
