"""The commands that look without changing anything: ``sources list|check``, ``show`` and ``extract``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadsheet.config.settings import Settings
from broadsheet.flows.cli import main
from broadsheet.flows.demo import CORPUS_DIR
from broadsheet.warehouse.reports import run_query


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    code = caught.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), captured.out, " ".join(captured.err.split())


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_sources_check_names_each_bad_location(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                               here: Path) -> None:
    (here / "pages").mkdir()
    sources = here / "sources.toml"
    sources.write_text('[[sources]]\nname = "local"\nlocation = "pages"\nschedule = "15m"\n\n'
                       '[[sources]]\nname = "gone"\nlocation = "no/such/folder"\n\n'
                       '[[sources]]\nname = "wire"\nlocation = "https://wire.example/feed.xml"\n', encoding="utf-8")
    code, out, _ = run(monkeypatch, capsys, "sources", "check", "--sources", str(sources), "--format", "json")
    assert code == 2
    problems = {row["name"]: row["problem"] for row in json.loads(out)["rows"]}
    assert problems == {"local": None, "gone": "no such file or folder", "wire": None}


def test_sources_check_reports_a_bad_schedule(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              here: Path) -> None:
    sources = here / "sources.toml"
    sources.write_text('[[sources]]\nname = "wire"\nlocation = "https://wire.example/feed.xml"\n'
                       'schedule = "every tuesday"\n', encoding="utf-8")
    code, _, err = run(monkeypatch, capsys, "sources", "check", "--sources", str(sources))
    assert code == 2 and "'every tuesday' is neither an interval" in err


def test_sources_list_shows_schedule_last_fetch_and_health(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], here: Path,
                                                          demo_warehouse: Settings) -> None:
    sources = here / "sources.toml"
    sources.write_text('[[sources]]\nname = "demo"\nlocation = "https://demo.example/feed.xml"\nschedule = "1h"\n\n'
                       '[[sources]]\nname = "new"\nlocation = "https://new.example/feed.xml"\n', encoding="utf-8")
    code, out, _ = run(monkeypatch, capsys, "sources", "list", "--sources", str(sources),
                       "--db", str(demo_warehouse.warehouse.path), "--format", "json")
    assert code == 0
    demo, new = json.loads(out)["rows"]
    assert (demo["schedule"], demo["pages"], demo["articles"]) == ("1h", 7, 5)
    assert demo["last_fetched_at"] and 0 < demo["fetch_success_rate"] < 1
    assert (new["name"], new["last_fetched_at"], new["pages"]) == ("new", None, None)


def test_show_prints_an_article_with_what_enrichment_found(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], here: Path,
                                                          demo_warehouse: Settings) -> None:
    _, [(article_id, url)] = run_query(demo_warehouse.warehouse, "select article_id, url from latest_articles "
                                                                "where title = 'US Senators Meet MEK Leader in Tirana'")
    db = str(demo_warehouse.warehouse.path)
    code, out, _ = run(monkeypatch, capsys, "show", article_id, "--db", db, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["article"]["article_id"] == article_id and report["article"]["versions"] == 1
    names = {e["name"]: e["salience"] for e in report["entities"]}
    assert "Maryam Rajavi" in names and all(0 <= s <= 1 for s in names.values())
    assert "politics" in {t["topic_id"] for t in report["topics"]}
    assert report["keyphrases"] and report["cluster"]["cluster_id"]
    assert [v["article_id"] for v in report["versions"]] == [article_id]
    code, by_url, _ = run(monkeypatch, capsys, "show", url, "--db", db, "--format", "json")
    assert (code, json.loads(by_url)) == (0, report)
    code, text, _ = run(monkeypatch, capsys, "show", url, "--db", db)
    assert code == 0 and "US Senators Meet MEK Leader in Tirana" in text and "Maryam Rajavi" in text
    code, _, err = run(monkeypatch, capsys, "show", "no-such-article", "--db", db)
    assert code == 2 and "no article with id or URL 'no-such-article'" in err


def test_extract_prints_the_article_and_writes_nothing(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], here: Path) -> None:
    page = CORPUS_DIR / "chipmaker-quarterly-results.html"
    code, out, _ = run(monkeypatch, capsys, "extract", str(page), "--format", "json")
    assert code == 0
    article = json.loads(out)["article"]
    assert article["title"] == "Veridian Semiconductor Beats Forecasts as AI Chip Demand Surges"
    assert article["authors"] == ["Daniel Okafor"] and article["text"].startswith("Veridian Semiconductor")
    assert article["url"] == page.resolve().as_uri()
    found = json.loads(out)["enrichment"]  # tagged as ingest would tag it
    assert "Veridian Semiconductor" in {e["name"] for e in found["entities"] if e["entity_type"] == "organization"}
    assert found["topics"] and found["keyphrases"]
    assert list(here.iterdir()) == []  # no warehouse, no staging folder
    code, out, _ = run(monkeypatch, capsys, "extract", str(page), "--no-enrich", "--format", "json")
    assert code == 0 and "enrichment" not in json.loads(out)


def test_extract_of_a_page_without_text_says_why(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                here: Path) -> None:
    code, out, _ = run(monkeypatch, capsys, "extract", str(CORPUS_DIR / "empty.html"))
    assert code == 4 and "rejected extract/no_text" in out
