"""Why a source failed reaches whoever runs broadsheet: the CLI prints each failed source's message, and a
Prefect run with an unreadable source ends in a state an operator notices."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig
from broadsheet.flows.cli import main
from broadsheet.flows.ingest import WARNINGS_STATE, ingest_flow
from broadsheet.flows.report import RunSummary

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out, " ".join(captured.err.split())


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "reasons.duckdb"


def test_an_unreachable_feed_prints_why(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        db: Path) -> None:
    monkeypatch.setenv("BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES", "true")
    feed = f"http://127.0.0.1:{closed_port()}/feed.xml"
    code, out, err = run(monkeypatch, capsys, "ingest", feed, "--db", str(db))
    assert code == 4
    assert "rejected discover/robots_unreachable: 1" in out
    said = " ".join(err.split())  # the message may wrap at the terminal's width
    assert f"error: could not read source '{feed}': {feed} is not fetched: " in said
    assert "/robots.txt could not be read (" in said and "until it can be read nothing of the site is" in said


def test_a_feed_answering_404_prints_the_status(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                db: Path, httpserver: HTTPServer) -> None:
    monkeypatch.setenv("BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("BROADSHEET_HTTP__OBEY_ROBOTS", "false")
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    feed = httpserver.url_for("/feed.xml")
    code, out, err = run(monkeypatch, capsys, "ingest", feed, "--db", str(db), "--json")
    assert code == 4
    assert "HTTP 404" in json.loads(out)["failures"][feed]
    assert f"error: could not read source '{feed}':" in err and "HTTP 404" in err


def test_a_private_address_prints_the_setting_that_allows_it(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str], db: Path) -> None:
    monkeypatch.delenv("BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES", raising=False)
    feed = f"http://127.0.0.1:{closed_port()}/feed.xml"
    code, out, err = run(monkeypatch, capsys, "ingest", feed, "--db", str(db))
    assert code == 4
    assert "rejected discover/blocked_address: 1" in out
    assert "set http.allow_private_addresses = true" in err


def test_a_run_with_an_unreadable_source_ends_completed_with_warnings(settings: Settings,
                                                                      httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    feed = httpserver.url_for("/feed.xml")
    state = ingest_flow([SourceConfig(name="dead", location=feed, kind="feed")], settings, return_state=True)
    assert (state.type.value, state.name) == ("COMPLETED", WARNINGS_STATE)
    assert "source 'dead' could not be read" in state.message and "HTTP 404" in state.message
    summary = state.result()
    assert isinstance(summary, RunSummary) and summary.failed_sources == ["dead"]


def test_a_clean_run_ends_plainly_completed(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "one.txt").write_text("Harbour news\n" + "The harbour reopened on Monday. " * 20)
    state = ingest_flow([SourceConfig(name="folder", location=str(tmp_path / "pages"))], settings, return_state=True)
    assert (state.type.value, state.name) == ("COMPLETED", "Completed")
