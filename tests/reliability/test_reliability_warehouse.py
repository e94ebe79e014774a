"""Warehouse faults: corrupt staged batches, a full disk while staging or loading, incomplete runs.

The disk-full tests use a real, tiny tmpfs mounted under tmp_path (the suite runs as root in CI);
where mounting is not allowed they are skipped and the ENOSPC test that patches writes still runs.
"""

from __future__ import annotations

import errno
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import make_batch

from broadsheet.config import WarehouseError
from broadsheet.tasks.batch import WAREHOUSE_TURN, drop_known
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.fetch_history import latest_validators, read_validators
from broadsheet.warehouse.loading import load_staged, load_staged_batch
from broadsheet.warehouse.quarantine import batch_run_id, quarantine_dir
from broadsheet.warehouse.staging import stage_batch, staged_batches, staging_dir

FEED = "https://n.example/feed.xml"


def _article_count(path: Path) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        row = conn.execute("select count(*) from articles").fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def _stage_three(path: Path) -> list[Path]:
    return [stage_batch(make_batch(f"a{i}"), f"run{i}", staging_dir(path)) for i in range(3)]


@pytest.mark.parametrize(("file", "content", "reason"), [
    ("manifest.json", b"{not json", "no readable manifest"),
    ("manifest.json", b'{"articles": 1}', "manifest without batch_id and run_id"),
    ("articles.jsonl", b'{"article_id": "a1", "url": tru', "Malformed JSON"),
    ("articles.jsonl", b'{"article_id": "a1", "url": null}\n', "NOT NULL constraint"),
    ("pages.jsonl", b'{"page_id": "p", "bytes": "many"}\n', "rows the warehouse refuses"),
])
def test_a_corrupt_staged_batch_is_quarantined_and_the_rest_load(tmp_path: Path, file: str, content: bytes,
                                                                  reason: str) -> None:
    path = tmp_path / "w.duckdb"
    _, broken, _ = _stage_three(path)
    (broken / file).write_bytes(content)
    conn = connect(path)
    try:
        result = load_staged(conn, staging_dir(path))
        rejection = conn.execute("select run_id, stage, url, error_type, message, transient from rejections "
                                 "where error_type = 'corrupt_stage'").fetchall()
    finally:
        conn.close()
    assert (result.batches, result.articles, result.quarantined) == (2, 2, 1)
    assert staged_batches(staging_dir(path)) == []
    moved = quarantine_dir(staging_dir(path)) / broken.name
    assert (moved / file).read_bytes() == content  # kept as it was, for inspection
    [(run_id, stage, url, code, message, transient)] = rejection
    assert (run_id, stage, url, code, transient) == ("run1", "load", str(moved), "corrupt_stage", False)
    assert reason in message and "moved to" in message and "delete it" in message


def test_loading_one_corrupt_batch_alone_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    [batch] = [stage_batch(make_batch(), "run1", staging_dir(path))]
    (batch / "fetches.jsonl").write_bytes(b"\x00\x00garbage")
    conn = connect(path)
    try:
        with pytest.raises(WarehouseError, match="rows the warehouse refuses") as caught:
            load_staged_batch(conn, batch)
        assert conn.execute("select count(*) from articles").fetchone() == (0,)  # nothing half-loaded
    finally:
        conn.close()
    assert caught.value.code == "corrupt_stage"


def test_batch_run_id_survives_a_lost_manifest(tmp_path: Path) -> None:
    batch = stage_batch(make_batch(), "run7", tmp_path / "staging")
    (batch / "manifest.json").unlink()
    assert batch_run_id(batch) == "run7"
    for file in batch.iterdir():
        file.write_bytes(b"junk")
    assert batch_run_id(batch) == "unknown"


def _record_fetch(conn: duckdb.DuckDBPyConnection, run_id: str, status: str, body_sha: str, at: datetime) -> None:
    conn.execute("insert into runs (run_id, flow, status, started_at) values (?, 'ingest', ?, ?) "
                 "on conflict do nothing", [run_id, status, at])
    conn.execute("insert into fetches (run_id, url, final_url, status_code, bytes, etag, elapsed_ms, fetched_at, "
                 "body_sha256) values (?, ?, ?, 200, 10, ?, 1.0, ?, ?)", [run_id, FEED, FEED, f'"{body_sha}"', at,
                                                                       body_sha])


def test_a_feed_seen_only_by_an_unfinished_run_is_read_again(tmp_path: Path) -> None:
    """The known risk: a run killed after loading the feed's fetch must not make the next skip it."""
    path = tmp_path / "w.duckdb"
    start = datetime(2026, 3, 1, tzinfo=UTC)
    conn = connect(path)
    try:
        _record_fetch(conn, "done", "completed", "old", start)
        _record_fetch(conn, "killed", "running", "new", start + timedelta(hours=1))
        _record_fetch(conn, "crashed", "failed", "newer", start + timedelta(hours=2))
        known = latest_validators(conn, [FEED])[FEED]
        assert (known.body_sha256, known.etag, known.fetched_at) == ("old", '"old"', start)
        conn.execute("insert into rejections (run_id, stage, url, source_id, error_type, message, transient, "
                     "rejected_at) values ('done', 'load', 'x', 'staging', 'corrupt_stage', 'm', false, ?)", [start])
        assert latest_validators(conn, [FEED]) == {}  # its batch never loaded: nothing counts as unchanged
    finally:
        conn.close()


# -- a full disk -------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards; skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_disk_full_while_staging_is_transient_and_leaves_no_partial_batch(tiny_disk: Path) -> None:
    path = tiny_disk / "w.duckdb"
    connect(path).close()
    filler = _fill(tiny_disk)
    with pytest.raises(WarehouseError, match="No space left on device") as caught:
        stage_batch(make_batch(), "run1", staging_dir(path))
    assert (caught.value.code, caught.value.transient) == ("staging", True)
    assert list(staging_dir(path).iterdir()) == []  # the partial folder was removed
    filler.unlink()
    stage_batch(make_batch(), "run1", staging_dir(path))
    conn = connect(path)
    try:
        assert load_staged(conn, staging_dir(path)).articles == 1
    finally:
        conn.close()


def test_disk_full_while_loading_keeps_the_batch_staged(tiny_disk: Path) -> None:
    path = tiny_disk / "w.duckdb"
    staged = stage_batch(make_batch(), "run1", staging_dir(path))
    conn = connect(path)
    try:
        filler = _fill(tiny_disk)
        with pytest.raises(WarehouseError, match="No space left on device") as caught:
            load_staged(conn, staging_dir(path))
    finally:
        conn.close()
    assert caught.value.transient
    assert staged_batches(staging_dir(path)) == [staged]  # not lost, not quarantined
    filler.unlink()
    conn = connect(path)
    try:
        result = load_staged(conn, staging_dir(path))
    finally:
        conn.close()
    assert (result.batches, result.articles, result.quarantined) == (1, 1, 0)
    assert _article_count(path) == 1


def test_enospc_while_writing_a_staged_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no filesystem can be mounted: every write fails as a full disk would."""
    def full(_self: Path, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(WarehouseError, match="No space left on device") as caught:
        stage_batch(make_batch(), "run1", tmp_path / "staging")
    assert caught.value.transient and list((tmp_path / "staging").iterdir()) == []


def test_validators_of_a_missing_or_locked_warehouse_are_empty(tmp_path: Path) -> None:
    assert read_validators(tmp_path / "none.duckdb", [FEED]) == {}


def test_known_articles_are_read_while_the_other_batch_loads(tmp_path: Path) -> None:
    """Two batches are in flight: one checking which of its articles are known must not wait for the
    other's load (the workers would stand idle meanwhile)."""
    db = tmp_path / "w.duckdb"
    conn = connect(db)
    try:
        load_staged_batch(conn, stage_batch(make_batch("a1"), "run1", staging_dir(db)))
    finally:
        conn.close()
    known, new = make_batch("a1").articles[0], make_batch("a2").articles[0]
    result: list[list] = []
    loading = connect(db)  # a load in progress: this process holds the warehouse turn and a write transaction
    try:
        with WAREHOUSE_TURN:
            loading.execute("begin transaction")
            loading.execute("delete from rejections")
            checker = threading.Thread(target=lambda: result.append(drop_known([known, new, new], db)))
            checker.start()
            checker.join(timeout=60)
            loading.execute("rollback")
    finally:
        loading.close()
    assert not checker.is_alive(), "drop-known waited for the load"
    assert result == [[new]]


class _FullDiskAtCommit:
    """A connection whose commit fails as on a full disk, ending the transaction as DuckDB's does."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        if sql == "commit":
            self.conn.execute("rollback")
            raise duckdb.IOException("IO Error: Could not write file \"w.duckdb.wal\": No space left on device")
        return self.conn.execute(sql, *args)


def test_disk_full_while_migrating_is_the_transient_error_not_a_traceback(tmp_path: Path) -> None:
    from broadsheet.warehouse.migrate import create_views, migrate

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        for step in (migrate, create_views):  # each used to raise "cannot rollback - no transaction is active"
            with pytest.raises(WarehouseError, match=r"the disk is full .*free some space") as caught:
                step(_FullDiskAtCommit(conn))  # type: ignore[arg-type]
            assert (caught.value.code, caught.value.transient) == ("disk_full", True)
            step(conn)  # with space again, the step completes
    finally:
        conn.close()
