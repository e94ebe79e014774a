"""The ingest progress as a person sees it, in a real terminal (tmux): the total from discovery, a bar per
stage that ends full, and ``--verbose`` log lines printed whole above the bars, never across them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadsheet.flows.demo import CORPUS_DIR

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None,
                                 reason="tmux is not installed (apt-get install tmux; .ci/run installs it)")]
BAR = "━"


def _screen(socket: str) -> str:
    """The whole pane, history included, wrapped lines joined."""
    return subprocess.run(["tmux", "-L", socket, "capture-pane", "-p", "-J", "-S", "-", "-t", "progress"],
                          capture_output=True, text=True, check=True).stdout


def test_progress_in_a_terminal(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in CORPUS_DIR.glob("*.html"):
        shutil.copy(path, pages / path.name)
    broadsheet = Path(sys.executable).with_name("broadsheet")
    command = f"'{broadsheet}' --verbose ingest pages --batch-size 2 --db w.duckdb; echo EXIT=$?; sleep 600"
    socket = f"broadsheet-test-{os.getpid()}"
    # As a user's shell has it: none of the Prefect or broadsheet variables earlier tests in this process set
    # (PREFECT_LOGGING_LEVEL=ERROR from a quiet command would hide the log lines under test).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "BROADSHEET_"))}
    env.update({"BROADSHEET_PIPELINE__WORKERS": "1", "TERM": "xterm-256color",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "progress", "-x", "120", "-y", "50",
                    "-c", str(tmp_path), command], env=env, check=True)
    try:
        deadline = time.monotonic() + 900  # a timeout for a stuck run, not a measurement
        while "EXIT=" not in (screen := _screen(socket)) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    assert "EXIT=0" in screen, screen
    stages = ("fetched", "extracted", "enriched", "batches loaded")
    bars = {line.split(BAR)[0].strip(): line for line in lines if line.split(BAR)[0].strip() in stages}
    assert set(bars) == set(stages), screen
    assert "6/6" in bars["fetched"] and "6/6" in bars["extracted"] and "3/3" in bars["batches loaded"], screen
    enriched = bars["enriched"].split()[-2]
    assert enriched.split("/")[0] == enriched.split("/")[1] != "0", screen
    logs = [line for line in lines if "| INFO" in line]
    assert any("discovered 6 candidates" in line for line in logs), screen
    assert [line for line in logs if BAR in line] == [], screen  # no log line written across a bar
    first_bar = lines.index(bars["fetched"])
    during = [line for line in logs if "Task run" in line or "Flow run" in line]
    assert during and all(lines.index(line) < first_bar for line in during), screen  # the run's logs above the bars
