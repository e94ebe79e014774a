"""SIGKILL at several points of a real ``broadsheet ingest``: the next run completes the work.

Each run is the real CLI in a subprocess (its own session, so the kill takes Prefect's temporary
server with it) against a feed served on 127.0.0.1 by this process. A small driver script wraps one
stage function so that, at the chosen call, it writes a marker file and waits; the test sees the
marker and kills the whole process group. The runs are chained (each one is killed later in the
work than the previous), then a last run goes through, and the warehouse is checked against the
feed: every item is an article or a rejection, no article twice, no batch half-loaded or left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from helpers import article_html, rss
from pytest_httpserver import HTTPServer

from broadsheet.warehouse.staging import staged_batches, staging_dir

pytestmark = pytest.mark.slow  # real processes killed, or a Prefect server stopped: minutes each

DRIVER = '''
import os, sys, time
point = os.environ.get("KILL_POINT")
if point:
    import broadsheet.tasks.batch as batch
    import broadsheet.tasks.workers as workers
    import broadsheet.warehouse.loading as loading
    import broadsheet.warehouse.staging as staging
    where, nth = point.split(":")
    calls = [0]

    def reached(*_args):
        calls[0] += 1
        if calls[0] == int(nth):
            with open(os.environ["KILL_MARK"], "w") as mark:
                mark.write(point)
            time.sleep(600)

    def wrap(module, name, when=lambda *a: True):
        real = getattr(module, name)
        def wrapper(*args, **kwargs):
            if when(*args):
                reached()
            return real(*args, **kwargs)
        setattr(module, name, wrapper)

    targets = {"fetch": (batch, "fetch_pages"), "enrich": (workers, "enrich"),
               "stage": (staging, "_fsync_dir")}
    if where == "load":  # inside the load transaction, after the articles went in, before the commit
        wrap(loading, "_insert_sql", lambda table, *rest: table == "fetches")
    else:
        wrap(*targets[where])
from broadsheet.flows.cli import main
if __name__ == "__main__":  # worker processes import this script again (as __mp_main__): run it once
    sys.argv = ["broadsheet", *sys.argv[1:]]
    main()
'''
TOPICS = ("harbour", "budget", "league", "vaccine", "flood", "chips")
RUN_TIMEOUT = 240.0


@pytest.fixture
def feed(httpserver: HTTPServer) -> str:
    base = httpserver.url_for("").rstrip("/")
    links = [f"/{name}" for name in TOPICS] + ["/gone", "/brochure.pdf"]
    httpserver.expect_request("/feed.xml").respond_with_data(rss(base, links), content_type="application/rss+xml")
    for name in TOPICS:
        text = (f"The {name} story broke on Monday in Lisbon. Officials said the {name} plan would change how the "
                f"city works, and residents asked what the {name} decision means for them this year.")
        httpserver.expect_request(f"/{name}").respond_with_data(article_html(name.title(), text),
                                                                content_type="text/html; charset=utf-8")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/brochure.pdf").respond_with_data(b"%PDF-1.4", content_type="application/pdf")
    return f"{base}/feed.xml"


def _ingest(tmp_path: Path, feed: str, db: Path, point: str | None) -> subprocess.CompletedProcess[str] | None:
    """Run the CLI; with ``point``, kill it there and return None (fail if it is never reached)."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    mark = tmp_path / "reached"
    mark.unlink(missing_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": "",
           "BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES": "true", "BROADSHEET_HTTP__OBEY_ROBOTS": "false",
           "BROADSHEET_HTTP__HOST_DELAY_SECONDS": "0", "BROADSHEET_HTTP__MAX_RETRIES": "0",
           "KILL_MARK": str(mark), "KILL_POINT": point or ""}
    process = subprocess.Popen([sys.executable, str(driver), "ingest", feed, "--db", str(db), "--batch-size", "2",
                                "--quiet"], env=env, cwd=tmp_path, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if point is None:
            output, _ = process.communicate(timeout=RUN_TIMEOUT)
            return subprocess.CompletedProcess(process.args, process.returncode, output)
        deadline = time.monotonic() + RUN_TIMEOUT
        while not mark.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the run never reached {point} (exit {process.returncode}):\n{output[-3000:]}")
            time.sleep(0.05)
        return None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def _query(db: Path, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_killed_runs_lose_nothing_and_duplicate_nothing(tmp_path: Path, feed: str) -> None:
    db = tmp_path / "w.duckdb"
    # Batch 1 is loaded (with the feed's fetch row) when the first kill lands in batch 2's fetch: the
    # known risk that the next run takes the feed for unchanged and never reads items 3-8.
    for point in ("fetch:2", "enrich:2", "load:2", "stage:3"):
        assert _ingest(tmp_path, feed, db, point) is None
    done = _ingest(tmp_path, feed, db, None)
    assert done is not None and done.returncode == 0, done.stdout if done else ""

    base = feed.removesuffix("/feed.xml")
    articles = _query(db, "select url, count(*) from articles group by url order by url")
    assert articles == sorted((f"{base}/{name}", 1) for name in TOPICS)
    rejected = dict(_query(db, "select url, list(distinct error_type) from rejections where stage <> 'load' "
                               "group by url"))
    assert rejected == {f"{base}/gone": ["http_status"], f"{base}/brochure.pdf": ["not_html"]}
    assert _query(db, "select count(*), count(distinct batch_id) from loaded_batches")[0][0] == \
        _query(db, "select count(distinct batch_id) from loaded_batches")[0][0]
    assert _query(db, "select count(*) - count(distinct page_id) from pages") == [(0,)]
    assert _query(db, "select count(*) from mentions m left join articles a using (article_id) "
                      "where a.article_id is null") == [(0,)]  # no enrichment row without its article
    assert staged_batches(staging_dir(db)) == []
    assert _query(db, "select status from runs order by started_at desc limit 1") == [("completed",)]
