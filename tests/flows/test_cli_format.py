"""One machine format, versioned: ``--format json|jsonl|csv|table`` on every command that prints data, JSON
values that are JSON (bytes base64, intervals in seconds, times ISO 8601), and ``--version``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer.main

from broadsheet.flows.cli import app, main
from broadsheet.flows.output import FORMAT_VERSION
from broadsheet.warehouse.connection import connect

DATA_COMMANDS = ("ingest", "query", "search", "export", "stats", "demo", "reenrich", "show", "extract")
VALUES = "select 'ab'::blob as body, interval 1 day + interval 30 second as wait, date '2026-01-02' as day, " \
         "timestamptz '2026-01-02 03:04:05+00' as at_time, [1, 2] as numbers, 1.5::decimal(4, 2) as price"


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out, captured.err


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "format.duckdb"
    connect(path).close()
    return path


def _commands() -> dict[str, object]:
    group = typer.main.get_command(app)
    found = dict(group.commands)  # type: ignore[attr-defined]
    for name, command in list(found.items()):
        for sub, inner in getattr(command, "commands", {}).items():
            found[f"{name} {sub}"] = inner
    return found


@pytest.mark.parametrize("command", [*DATA_COMMANDS, "sources list", "sources check"])
def test_every_command_that_prints_data_takes_format(command: str) -> None:
    params = _commands()[command].params  # type: ignore[attr-defined]
    [option] = [p for p in params if "--format" in getattr(p, "opts", [])]
    assert {choice.value for choice in option.type_descriptor.annotation} == {"table", "json", "jsonl", "csv"}


def test_json_values_are_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = run(monkeypatch, capsys, "query", VALUES, "--db", str(db), "--format", "json")
    document = json.loads(out)
    assert (code, document["format_version"]) == (0, FORMAT_VERSION)
    assert document["columns"] == ["body", "wait", "day", "at_time", "numbers", "price"]
    assert document["rows"] == [{"body": "YWI=", "wait": 86430.0, "day": "2026-01-02",
                                 "at_time": "2026-01-02T03:04:05+00:00", "numbers": [1, 2], "price": 1.5}]


def test_jsonl_is_one_row_a_line_and_csv_a_header_and_rows(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str], db: Path) -> None:
    sql = "select * from (values (1, 'a,b'), (2, null)) as t(n, label) order by n"
    code, out, _ = run(monkeypatch, capsys, "query", sql, "--db", str(db), "--format", "jsonl")
    assert [json.loads(line) for line in out.splitlines()] == [{"n": 1, "label": "a,b"}, {"n": 2, "label": None}]
    code, out, _ = run(monkeypatch, capsys, "query", VALUES, "--db", str(db), "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["body", "wait", "day", "at_time", "numbers", "price"],
        ["YWI=", "86430.0", "2026-01-02", "2026-01-02T03:04:05+00:00", "[1, 2]", "1.5"]]


def test_a_record_in_every_format(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  db: Path) -> None:
    code, out, _ = run(monkeypatch, capsys, "stats", "--db", str(db), "--format", "json")
    report = json.loads(out)
    assert (code, report["format_version"], report["tables"]["articles"]) == (0, FORMAT_VERSION, 0)
    code, out, _ = run(monkeypatch, capsys, "stats", "--db", str(db), "--format", "jsonl")
    assert len(out.splitlines()) == 1 and json.loads(out) == report
    code, out, _ = run(monkeypatch, capsys, "stats", "--db", str(db), "--format", "csv")
    fields = dict(list(csv.reader(io.StringIO(out)))[1:])
    assert fields["tables.articles"] == "0" and fields["format_version"] == str(FORMAT_VERSION)


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = run(monkeypatch, capsys, "--version")
    assert (code, out.strip()) == (0, f"broadsheet {version('broadsheet')} (output format {FORMAT_VERSION})")
