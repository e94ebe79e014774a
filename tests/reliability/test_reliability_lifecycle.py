"""A real ``broadsheet ingest`` stopped from outside: SIGKILL, SIGTERM, SIGINT, and the processes it started.

Each run is the CLI in a subprocess, through a driver that pauses the run inside its enrich step (writing
a marker file) until the test lets it go on; the test sends its signal while the run waits there, then
looks at the processes the run started (read from /proc) and at the ``runs`` table. No time is asserted:
every wait polls for a state and gives up only after a generous bound.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from broadsheet.flows.demo import CORPUS_DIR

pytestmark = pytest.mark.slow  # real runs of the CLI, each with its own Prefect server: tens of seconds

DRIVER = """
import os, sys, time
import broadsheet.tasks.workers as workers
real = workers.enrich
def paused(*args, **kwargs):
    open(os.environ["MARK"], "w").close()
    while not os.path.exists(os.environ["GO"]):
        time.sleep(0.2)
    return real(*args, **kwargs)
workers.enrich = paused
from broadsheet.flows.cli import main
if __name__ == "__main__":  # worker processes import this script again (as __mp_main__): run it once
    sys.argv = ["broadsheet", *sys.argv[1:]]
    main()
"""
BOUND = 240.0  # seconds any one wait may take on a busy machine before the test gives up


def _start(tmp_path: Path, *args: str, workers: int = 1,
           **settings: str) -> subprocess.Popen[str]:
    """``broadsheet ingest`` of the demo corpus through the pausing driver, with no Prefect API chosen;
    ``settings`` as BROADSHEET_* variables (``warehouse__lock_wait_seconds="1"``)."""
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "MARK": str(tmp_path / "mark"),
           "GO": str(tmp_path / "go"), "BROADSHEET_PIPELINE__WORKERS": str(workers), "COLUMNS": "1000",
           **{f"BROADSHEET_{name.upper()}": value for name, value in settings.items()}}
    env.pop("PREFECT_API_URL", None)
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        return subprocess.Popen([sys.executable, "driver.py", "ingest",
                                 str(CORPUS_DIR), "--db", str(tmp_path / "w.duckdb"), *args],
                                cwd=tmp_path, env=env, stdout=out, stderr=err, text=True)


def _stderr(tmp_path: Path) -> str:
    """What the run printed on stderr so far, its lines joined (Rich wraps long ones)."""
    return " ".join((tmp_path / "err.txt").read_text(errors="replace").split())


def _statuses(db: Path) -> list[str]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return [row[0] for row in conn.execute("select status from runs order by started_at").fetchall()]
    finally:
        conn.close()


def _wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen[str], tmp_path: Path) -> None:
    deadline = time.monotonic() + BOUND
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before {what}:\n{_stderr(tmp_path)[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first, then the parent's pid)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[1]) == pid and fields[0] not in "ZX":
            found.append(int(entry.name))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_prefect_server(pid: int) -> bool:
    command = _command(pid)
    return "uvicorn" in command or "temporary_api" in command


def _alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie nobody has reaped yet has ended)."""
    return [pid for pid in pids if (fields := _stat(pid)) is not None and fields[0] not in "ZX"]


def _wait_until_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + BOUND
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _alive(pids)


def _kill_all(pids: list[int]) -> None:
    for pid in _alive(pids):
        os.kill(pid, signal.SIGKILL)


def test_a_killed_ingest_takes_its_temporary_prefect_server_with_it(tmp_path: Path) -> None:
    ingest = _start(tmp_path, "--quiet")
    children: list[int] = []
    try:
        _wait_for("the run reached enrich", (tmp_path / "mark").exists, ingest, tmp_path)
        children = _children(ingest.pid)
        assert [pid for pid in children if _is_prefect_server(pid)], [_command(pid) for pid in children]
        ingest.kill()
        ingest.wait(timeout=BOUND)
        assert _wait_until_gone(children) == [], [_command(pid) for pid in _alive(children)]
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(timeout=BOUND)
        _kill_all(children)


def test_an_ingest_that_finds_the_warehouse_locked_waits_for_it(tmp_path: Path) -> None:
    (tmp_path / "go").touch()  # no pause in enrich
    holder = duckdb.connect(str(tmp_path / "w.duckdb"))  # this process writes the file: the ingest finds it locked
    try:
        # Without --verbose: the wait is the run's own news, shown where Prefect's library lines are not.
        ingest = _start(tmp_path, warehouse__lock_wait_seconds="600")
        _wait_for("the run said it waits for the warehouse", lambda: "waiting up to 600 s" in _stderr(tmp_path),
                  ingest, tmp_path)
    finally:
        holder.close()
    assert ingest.wait(timeout=BOUND) == 0, _stderr(tmp_path)[-3000:]
    assert _statuses(tmp_path / "w.duckdb") == ["completed"]


def test_an_ingest_that_finds_the_warehouse_locked_for_longer_exits_3(tmp_path: Path) -> None:
    (tmp_path / "go").touch()
    holder = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ingest = _start(tmp_path, "--quiet", warehouse__lock_wait_seconds="1")
        assert ingest.wait(timeout=BOUND) == 3
    finally:
        holder.close()
    assert "another process is writing to it (waited 1 s, warehouse.lock_wait_seconds)" in _stderr(tmp_path)
    assert "Error logging to API" not in _stderr(tmp_path)  # Prefect's log lines went out before its server stopped


@pytest.mark.parametrize(("signum", "code", "workers"), [(signal.SIGTERM, 143, 2), (signal.SIGINT, 130, 1)])
def test_sigterm_and_sigint_stop_a_run_cleanly(tmp_path: Path, signum: int, code: int, workers: int) -> None:
    # The run waits inside enrich for a file that never comes, as a batch blocked in a read would. A pool
    # starts only for more documents than workers x worker_chunk: one document a job makes the demo's enough.
    ingest = _start(tmp_path, "--quiet", workers=workers, pipeline__worker_chunk="1")
    children: list[int] = []
    try:
        _wait_for("the run reached enrich", (tmp_path / "mark").exists, ingest, tmp_path)
        children = _children(ingest.pid)
        assert [pid for pid in children if _is_prefect_server(pid)]
        assert len(children) > (workers if workers > 1 else 0)  # the server, and the workers when there is a pool
        ingest.send_signal(signum)
        assert ingest.wait(timeout=BOUND) == code, _stderr(tmp_path)[-3000:]
        assert _wait_until_gone(children) == [], [_command(pid) for pid in _alive(children)]
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(timeout=BOUND)
        _kill_all(children)
    assert _statuses(tmp_path / "w.duckdb") == ["interrupted"]
    assert f"stopped by {signal.Signals(signum).name}: the run is recorded as interrupted" in _stderr(tmp_path)
