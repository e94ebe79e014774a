"""The explorer's server: JSON and CSV per panel, clear refusals, and a busy answer while a load writes."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from broadsheet.config.settings import Settings, load_settings
from broadsheet.flows.explore import create_app
from tests.helpers import FLOOD, WIRE, article, batch_of, load


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Not warehouse.duckdb: the search index (warehouse.duckdb.search) would then be a database named
    # "warehouse", the name it attaches the warehouse under (a defect of `broadsheet search`, reported).
    return load_settings(warehouse={"path": tmp_path / "news.duckdb"})


@pytest.fixture
def client(settings: Settings) -> TestClient:
    load(settings.warehouse, batch_of(article("https://a.example/rates", WIRE, source="a", title="Rates up"),
                                      article("https://a.example/flood", FLOOD, source="a", title="Flood")))
    return TestClient(create_app(settings, wait=0.5))


def test_a_search_answers_every_panel_with_its_sql(client: TestClient) -> None:
    answer = client.get("/api/search").json()
    assert answer["selection"]["articles"] == 2
    assert "create or replace temp table selection" in answer["selection"]["sql"]
    assert set(answer["panels"]) == {"attention", "entities", "topics", "subtopics", "sources", "countries",
                                     "cities", "stories"}
    for name, found in answer["panels"].items():
        assert found["sql"].startswith("-- ") and "selection" in found["sql"], name
    narrowed = client.get("/api/search", params={"q": "river flooded"}).json()
    assert narrowed["selection"]["articles"] == 1
    assert [r["title"] for r in narrowed["panels"]["stories"]["rows"]] == ["Flood"]


def test_a_panel_downloads_as_csv_with_the_search_applied(client: TestClient) -> None:
    response = client.get("/api/search.csv", params={"panel": "sources", "q": "interest rates"})
    assert response.headers["content-disposition"] == 'attachment; filename="broadsheet-sources.csv"'
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0][:3] == ["source_id", "stories", "articles"] and table[1][:3] == ["a", "1", "1"]


@pytest.mark.parametrize(("url", "status", "phrase"), [
    ("/api/search.csv?panel=nope", 400, "choose one of attention"),
    ("/api/elsewhere", 404, "choose one of search, entity, sources"),
    ("/api/search?since=yesterday", 400, "YYYY-MM-DD"),
    ("/api/search?q=rates&limit=0", 400, "limit must be a whole number"),
])
def test_bad_requests_are_refused_saying_what_to_do(client: TestClient, url: str, status: int, phrase: str) -> None:
    response = client.get(url)
    assert response.status_code == status and phrase in response.json()["error"]


def test_the_page_and_its_assets_are_served_locally(client: TestClient) -> None:
    page = client.get("/").text
    for asset in ("/static/vendor/vega.min.js", "/static/vendor/vega-lite.min.js", "/static/vendor/vega-embed.min.js",
                  "/static/explore.js", "/static/explore.css"):
        assert asset in page and client.get(asset).status_code == 200
    assert client.get("/static/vendor/countries-110m.json").json()["objects"]["countries"]["geometries"]
    assert "http" not in page.replace("http://www.w3.org", "")


def test_while_a_load_holds_the_warehouse_the_answer_is_busy(client: TestClient, settings: Settings) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); sys.stdin.read()", str(settings.warehouse.path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = client.get("/api/search")
        assert busy.status_code == 503
        assert busy.json()["busy"] is True and "a load is writing to it" in busy.json()["error"]
    finally:
        holder.communicate("")
    assert client.get("/api/search").status_code == 200


def test_the_explore_command_refuses_a_missing_warehouse(tmp_path: Path) -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("broadsheet")), "explore", "--db",
                             str(tmp_path / "none.duckdb")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 3 and "broadsheet ingest" in result.stderr
