"""The ``broadsheet`` command line: every command, its output formats and its exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from broadsheet.config.settings import Settings
from broadsheet.flows.cli import app, main

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("ingest", "query", "stats", "demo", "server", "serve", "search", "export", "reenrich", "reextract",
            "show", "extract", "sources")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``broadsheet ARGS`` in-process through the real entry point; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out, captured.err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Loopback allowed, a working directory of its own; returns the warehouse path to pass as --db."""
    monkeypatch.setenv("BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cli.duckdb"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "sources"] + ["sources list", "sources check"])
def test_every_command_has_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                command: str) -> None:
    code, out, _ = run(monkeypatch, capsys, *command.split(), "--help")
    assert code == 0
    assert "Usage:" in out and "--config" in out
    assert ("--db" in out) == (command not in ("server", "serve", "extract", "sources check"))


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_query_and_stats(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                env: Path) -> None:
    folder = REPO / "flows" / "demo_corpus"
    code, out, _ = run(monkeypatch, capsys, "ingest", str(folder), "--db", str(env), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["counts"]["loaded"] == 5
    assert summary["rejections"] == {"discover/unsupported_file": 2, "extract/no_text": 1}

    code, out, _ = run(monkeypatch, capsys, "query", "select count(*) as n from articles", "--db", str(env),
                       "--format", "json")
    assert (code, json.loads(out)["rows"]) == (0, [{"n": 5}])
    code, out, _ = run(monkeypatch, capsys, "query", "select title from articles order by title limit 2",
                       "--db", str(env), "--format", "csv")
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["title"] and len(table) == 3
    code, out, _ = run(monkeypatch, capsys, "query", "select 41 + 1 as answer", "--db", str(env))
    assert code == 0 and "answer" in out and "42" in out

    code, out, _ = run(monkeypatch, capsys, "stats", "--db", str(env), "--json")
    report = json.loads(out)
    assert report["tables"]["articles"] == 5
    assert report["top_entities"] and report["runs"][0]["status"] == "completed"
    code, out, _ = run(monkeypatch, capsys, "stats", "--db", str(env))
    assert code == 0 and "Top entities" in out


@pytest.mark.usefixtures("prefect_harness")
def test_demo(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: Path) -> None:
    code, out, _ = run(monkeypatch, capsys, "demo", "--db", str(env), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["run"]["counts"]["loaded"] == 5
    assert result["run"]["rejections"] == {"fetch/http_status": 1, "fetch/not_html": 1, "extract/no_text": 1}
    assert {e["name"] for e in result["warehouse"]["top_entities"]} >= {"Maryam Rajavi", "United States"}


@pytest.mark.slow
def test_the_demo_reads_cleanly_in_80_columns(tmp_path: Path) -> None:
    """As a newcomer sees it: the console script in a terminal 80 columns wide, no warnings, no library logs."""
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm"}
    env.pop("PYTHONWARNINGS", None)
    result = subprocess.run([str(Path(sys.executable).with_name("broadsheet")), "demo"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    screen = (result.stdout + result.stderr).splitlines()
    assert "Top entities" in result.stdout and "Run " in result.stdout
    noise = [line for line in screen if re.search(r"Warning|warn\(|Traceback|\| INFO|prefect\.io", line)]
    assert not noise, noise
    assert max(len(line) for line in screen) <= 80


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (("query", "select 1"), 3, "run `broadsheet ingest` first"),
        (("stats",), 3, "run `broadsheet ingest` first"),
        (("reextract",), 3, "run `broadsheet ingest` first"),
        (("ingest", ".", "--since", "last week"), 2, "--since"),
        (("ingest", ".", "--limit", "0"), 2, "--limit"),
        (("ingest",), 2, "no SOURCE given"),
        (("ingest", "x", "--kind", "podcast"), 2, "--kind must be one of"),
        (("ingest", "no/such/folder"), 2, "neither an http(s) URL nor an existing file or folder"),
        (("ingest", ".", "--config", "missing.toml"), 2, "does not exist"),
        (("ingest", ".", "--batch-size", "0"), 2, "batch_size"),
    ],
)
def test_errors_exit_with_documented_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                           env: Path, args: tuple[str, ...], code: int, phrase: str) -> None:
    exit_code, _, err = run(monkeypatch, capsys, *args, "--db", str(env))
    assert exit_code == code
    assert phrase in " ".join(err.split())


@pytest.mark.usefixtures("prefect_harness")
def test_a_source_that_cannot_be_read_exits_4(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                               env: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    feed = httpserver.url_for("/feed.xml")
    code, out, err = run(monkeypatch, capsys, "ingest", feed, "--db", str(env), "--json")
    assert code == 4
    assert json.loads(out)["failed_sources"] == [feed]
    assert f"could not read source {feed!r}" in " ".join(err.split())


@pytest.mark.parametrize("sql", ["select * from no_such_table", "selec * from articles",
                                 "delete from articles"])
def test_bad_sql_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                  env: Path, settings: Settings, sql: str) -> None:
    from broadsheet.warehouse.connection import connect

    connect(env).close()
    code, _, err = run(monkeypatch, capsys, "query", sql, "--db", str(env))
    assert code == 2 and "query failed" in err


def test_the_reference_documents_every_command_option_and_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    cli_reference = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    settings_reference = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"`broadsheet {command}" in readme, command
        assert f"`broadsheet {command}" in cli_reference, command
    import typer.main

    click_app = typer.main.get_command(app)
    for name, command in click_app.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert f"`{option}`" in cli_reference, f"{name} {option} is not in docs/cli.md"
    for section, model in Settings.model_fields.items():
        for field in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"`{section}.{field}`" in settings_reference, f"setting {section}.{field} is not in docs/settings.md"


def test_every_setting_has_a_description() -> None:
    for section, model in Settings.model_fields.items():
        assert model.description, section
        for name, field in model.annotation.model_fields.items():  # type: ignore[union-attr]
            assert field.description and len(field.description) > 10, f"{section}.{name}"


def test_default_toml_lists_every_setting() -> None:
    toml = (REPO / "config" / "broadsheet.toml").read_text(encoding="utf-8")
    for section, model in Settings.model_fields.items():
        assert f"[{section}]" in toml
        for name, field in model.annotation.model_fields.items():  # type: ignore[union-attr]
            if field.default is not None:
                assert re.search(rf"^{name} = ", toml, re.MULTILINE), f"{section}.{name}"
