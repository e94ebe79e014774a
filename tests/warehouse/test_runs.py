"""The ``runs`` table: a run whose process is gone is marked ``abandoned`` by the next run, a live one is not."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.connection import connected
from broadsheet.warehouse.runs import RunCounts, finish_run, start_run
from broadsheet.warehouse.sql import query as named_query
from tests.helpers import article, batch_of, load, query

STARTED_ELSEWHERE = """
import sys
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.connection import connected
from broadsheet.warehouse.runs import start_run
with connected(WarehouseSettings(path=sys.argv[1])) as conn:
    start_run(conn, sys.argv[2], None, "ingest", {})
print("started", flush=True)
sys.stdin.read()  # runs until the test closes its stdin (or kills it)
"""


@contextlib.contextmanager
def run_in_another_process(target: WarehouseSettings, run_id: str) -> subprocess.Popen[str]:
    """A process that records ``run_id`` as running, and lives until the block ends."""
    process = subprocess.Popen([sys.executable, "-c", STARTED_ELSEWHERE, str(target.path), run_id],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "started"
        yield process
    finally:
        process.kill()
        process.wait(timeout=30)


def statuses(target: WarehouseSettings) -> dict[str, str]:
    return dict(query(target, "select run_id, status from runs"))


def start(target: WarehouseSettings, run_id: str) -> None:
    with connected(target) as conn:
        start_run(conn, run_id, None, "ingest", {})


def test_a_run_whose_process_was_killed_is_abandoned_by_the_next_run(tmp_path: Path) -> None:
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    with run_in_another_process(target, "killed") as process:
        process.kill()  # SIGKILL: it never records an end
    start(target, "next")
    assert statuses(target) == {"killed": "abandoned", "next": "running"}
    assert query(target, "select ended_at is not null from runs where run_id = 'killed'") == [(True,)]


def test_a_run_whose_process_still_runs_stays_running(tmp_path: Path) -> None:
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    start(target, "mine")  # this process: alive
    with run_in_another_process(target, "theirs"):
        start(target, "next")
        assert statuses(target) == {"mine": "running", "theirs": "running", "next": "running"}


def test_a_reused_pid_a_run_from_before_the_upgrade_and_another_host(tmp_path: Path) -> None:
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    for run_id in ("reused", "old", "remote"):
        start(target, run_id)
    with connected(target) as conn:
        # This live pid, but another process's start: the pid was reused after the run's process died.
        conn.execute("update runs set process_started = 'another-boot/1' where run_id = 'reused'")
        conn.execute("update runs set host = null, pid = null, process_started = null where run_id = 'old'")
        conn.execute("update runs set host = ? where run_id = 'remote'", [f"not-{socket.gethostname()}"])
    start(target, "next")
    assert statuses(target) == {"reused": "abandoned", "old": "abandoned", "remote": "running", "next": "running"}
    assert query(target, "select host, pid from runs where run_id = 'next'") == [(socket.gethostname(), os.getpid())]


def test_a_run_marked_abandoned_by_mistake_gets_its_status_when_it_ends(tmp_path: Path) -> None:
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    start(target, "slow")
    with connected(target) as conn:
        conn.execute("update runs set host = null where run_id = 'slow'")  # looks like a run from before
    start(target, "next")
    with connected(target) as conn:
        finish_run(conn, "slow", "completed", RunCounts(loaded=3))
    assert statuses(target)["slow"] == "completed"


def test_drift_judges_the_latest_completed_run_not_one_cut_short(tmp_path: Path) -> None:
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    start(target, "whole")
    load(target, batch_of(article("https://a.example/1", "One story about the harbour.", source="a"),
                          article("https://a.example/2", "Another story about the budget.", source="a")), "whole")
    with connected(target) as conn:
        finish_run(conn, "whole", "completed", RunCounts(loaded=2))
    start(target, "cut")
    load(target, batch_of(article("https://a.example/3", "A third story about the league.", source="a")), "cut")
    with connected(target) as conn:
        conn.execute("update runs set status = 'abandoned' where run_id = 'cut'")
        drift = conn.execute(named_query("explore_source_drift")).fetchall()
        per_run = dict(conn.execute("select run_id, run_status from source_run_health").fetchall())
    assert [(row[0], row[1], row[5]) for row in drift] == [("a", 2, 1)]  # documents of "whole"; "cut" is history
    assert per_run == {"whole": "completed", "cut": "abandoned"}
