"""Prefect's API stops mid-run: the ingest fails clearly, the warehouse stays whole, a rerun completes.

A real ``broadsheet server`` runs on a free loopback port; ``broadsheet ingest`` runs in a subprocess
reporting to it, through a driver that pauses the run inside its enrich step (writing a marker file)
until the test has stopped the server. Then the run goes on without an API.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from broadsheet.flows.demo import CORPUS_DIR
from broadsheet.warehouse.staging import staged_batches, staging_dir

pytestmark = pytest.mark.slow  # a real Prefect server stopped mid-run: minutes

BIN = Path(sys.executable).parent
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"timed out waiting for {path.name}"
        time.sleep(0.5)


def test_prefect_api_lost_mid_run(tmp_path: Path) -> None:
    port, db = _free_port(), tmp_path / "w.duckdb"
    env = {**os.environ, "BROADSHEET_SERVER__HOME": str(tmp_path / "prefect"), "MARK": str(tmp_path / "mark"),
           "GO": str(tmp_path / "go")}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen([str(BIN / "broadsheet"), "server", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(tmp_path / "prefect" / "server.json", 120)
        (tmp_path / "driver.py").write_text(DRIVER)
        ingest = subprocess.Popen([sys.executable, "driver.py", "ingest", str(CORPUS_DIR), "--db", str(db)],
                                  cwd=tmp_path, env={**env, "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(tmp_path / "mark", 120)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    (tmp_path / "go").touch()
    _, err = ingest.communicate(timeout=300)
    # Either the run finished its data work, or it failed and said so; never a half-loaded batch.
    conn = duckdb.connect(str(db), read_only=True)
    articles, statuses = (conn.execute("select count(*) from articles").fetchone()[0],
                          [r[0] for r in conn.execute("select status from runs").fetchall()])
    conn.close()
    if ingest.returncode == 0:
        assert (articles, statuses) == (5, ["completed"])
    else:
        assert ingest.returncode == 1
        assert "lost the Prefect API" in " ".join(err.split())
        assert statuses == ["failed"] and articles in (0, 5)
    # Without the server (ephemeral Prefect again) the same command completes the work exactly once.
    rerun = subprocess.run([str(BIN / "broadsheet"), "ingest", str(CORPUS_DIR), "--db", str(db), "--quiet"],
                           cwd=tmp_path, env={k: v for k, v in env.items() if k != "PREFECT_API_URL"},
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    conn = duckdb.connect(str(db), read_only=True)
    try:
        assert conn.execute("select count(*), count(distinct canonical_url) from articles").fetchone() == (5, 5)
    finally:
        conn.close()
    assert staged_batches(staging_dir(db)) == []
