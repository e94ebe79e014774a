"""What the command line prints reaches the terminal as plain text: brackets in titles, source names and
error messages are data, never Rich markup."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from broadsheet.flows.cli import _print_summary, main
from broadsheet.flows.report import RunSummary
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.runs import RunCounts


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``broadsheet ARGS`` in-process through the real entry point: (exit code, stdout, stderr)."""
    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out, captured.err


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty migrated warehouse in a working directory of its own, on a wide terminal."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "text.duckdb"
    connect(path).close()
    return path


@pytest.mark.parametrize("title", ["Watch [video] storm hits coast", "[Update] Flood warning [/] ok",
                                   "[live] Results :smile: [bold]night[/bold]"])
def test_query_prints_bracketed_titles_as_written(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], db: Path, title: str) -> None:
    code, out, err = run(monkeypatch, capsys, "query", f"select '{title}' as title", "--db", str(db))
    assert (code, err) == (0, "")
    assert title in out
    code, out, _ = run(monkeypatch, capsys, "query", f"select '{title}' as title", "--db", str(db), "--format", "csv")
    assert list(csv.reader(io.StringIO(out)))[1] == [title]


def test_an_ingest_summary_prints_source_names_urls_and_warnings_as_written(capsys: pytest.CaptureFixture[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    summary = RunSummary("run-1", "w.duckdb", RunCounts(discovered=1), {"fetch/http_status": 1},
                         {"fetch/http_status": "https://n.example/[video]/story"},
                         warnings=["source '[live] desk' could not be read at all"])
    _print_summary(summary)
    out = capsys.readouterr().out
    assert "https://n.example/[video]/story" in out
    assert "source '[live] desk' could not be read at all" in out


def test_error_messages_keep_their_brackets(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            db: Path, tmp_path: Path) -> None:
    empty = tmp_path / "none.toml"
    empty.write_text("", encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "ingest", "--sources", str(empty), "--db", str(db))
    assert code == 2 and "no enabled [[sources]] in" in err

    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nname = "[live] desk"\nlocation = "https://n.example/feed.xml"\n'
                   '[sources.http]\nno_such_setting = 1\n', encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "ingest", "--sources", str(bad), "--db", str(db))
    assert code == 2 and "unknown [http] setting(s) no_such_setting" in " ".join(err.split())


def test_search_prints_bracketed_titles_as_written(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from helpers import FLOOD, article, batch_of, load

    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "search.duckdb"
    load(db, batch_of(article("https://n.example/storm", FLOOD, title="Watch [video] storm floods [live] harbour")))
    code, out, _ = run(monkeypatch, capsys, "search", "harbour", "--db", str(db))
    assert code == 0 and "Watch [video] storm floods [live] harbour" in out
