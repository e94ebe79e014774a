"""The ingest flow end to end under Prefect's test harness, against a local site on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import article_html, rows, rss
from pytest_httpserver import HTTPServer

from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig, source_from_argument
from broadsheet.flows.demo import CORPUS_DIR, demo_site
from broadsheet.flows.ingest import RunSummary, ingest_flow
from broadsheet.warehouse.staging import staged_batches, staging_dir

pytestmark = pytest.mark.usefixtures("prefect_harness")

PARAGRAPHS = {
    "lisbon": "Lisbon's city council approved a new tram line on Tuesday. Mayor Carlos Moedas said the line "
              "would link the airport with the old town by 2028, and the transport agency Carris will run it.",
    "vote": "Voters in Portugal elect a new parliament on Sunday. Prime Minister Luis Montenegro hopes his "
            "party will win a majority, while the Socialist Party campaigned on housing and wages.",
}


@pytest.fixture
def site(httpserver: HTTPServer) -> str:
    base = httpserver.url_for("")
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(base.rstrip("/"), ["/lisbon", "/vote", "/gone", "/file.pdf", "/empty"]), content_type="application/rss+xml")
    for name, text in PARAGRAPHS.items():
        httpserver.expect_request(f"/{name}").respond_with_data(article_html(name.title(), text),
                                                                content_type="text/html; charset=utf-8")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    httpserver.expect_request("/file.pdf").respond_with_data(b"%PDF-1.4 ...", content_type="application/pdf")
    httpserver.expect_request("/empty").respond_with_data("<html><body><nav>x</nav></body></html>",
                                                          content_type="text/html")
    return f"{base.rstrip('/')}/feed.xml"


def test_feed_ingest_fills_the_warehouse(settings: Settings, site: str) -> None:
    summary = ingest_flow([SourceConfig(name="local", location=site, kind="auto")], settings)
    counts = vars(summary.counts)
    assert counts == {"discovered": 5, "fetched": 4, "extracted": 2, "duplicates": 0, "enriched": 2, "loaded": 2,
                      "rejected": 3, "not_modified": 0}
    assert summary.rejections == {"fetch/http_status": 1, "fetch/not_html": 1, "extract/no_text": 1}
    assert rows(settings, "select count(*), count(distinct source_id) from articles") == [(2, 1)]
    assert rows(settings, "select count(*) from fetches") == [(6,)]  # the feed and its five links
    assert rows(settings, "select stage, error_type from rejections order by 1, 2") == [
        ("extract", "no_text"), ("fetch", "http_status"), ("fetch", "not_html")]
    assert rows(settings, "select status, loaded, rejected from runs") == [("completed", 2, 3)]
    titles = {r[0] for r in rows(settings, "select title from articles")}
    assert titles == {"Lisbon", "Vote"}
    people = {r[0] for r in rows(settings, "select name from entities where entity_type = 'person'")}
    assert "Carlos Moedas" in people
    assert rows(settings, "select count(*) from article_topics where rank = 1") == [(2,)]
    assert rows(settings, "select count(*) from topics") == [(17,)]


def test_rerunning_adds_no_duplicate_rows(settings: Settings, site: str) -> None:
    source = [SourceConfig(name="local", location=site)]
    ingest_flow(source, settings)
    tables = ("articles", "entities", "entity_aliases", "mentions", "article_topics", "pages", "topics", "sources")
    before = {t: rows(settings, f"select count(*) from {t}")[0][0] for t in tables}
    summary = ingest_flow(source, settings)
    after = {t: rows(settings, f"select count(*) from {t}")[0][0] for t in tables}
    assert after == before
    # the feed's body did not change, so its items are not read again (issue 3: unchanged feeds are skipped)
    assert (summary.counts.discovered, summary.counts.not_modified, summary.counts.loaded) == (0, 1, 0)
    assert rows(settings, "select count(*) from runs") == [(2,)]


def test_a_rerun_with_nothing_new_loads_no_model(settings: Settings) -> None:
    from broadsheet.tasks.enrich import embeddings, entities, tagger

    source = [source_from_argument(str(CORPUS_DIR))]
    assert ingest_flow(source, settings).counts.loaded == 5  # few documents: in this process, models loaded
    loaders = (embeddings.load_encoder, tagger.load_tagger, entities.load_pos_pipeline, entities.load_pipeline)
    for loader in loaders:
        loader.cache_clear()
    summary = ingest_flow(source, settings)
    assert (summary.counts.extracted, summary.counts.duplicates, summary.counts.loaded) == (5, 5, 0)
    assert [loader.cache_info().currsize for loader in loaders] == [0, 0, 0, 0]


def test_each_source_kind(settings: Settings, httpserver: HTTPServer, tmp_path: Path) -> None:
    page_url = httpserver.url_for("/lisbon")
    httpserver.expect_request("/lisbon").respond_with_data(article_html("Lisbon", PARAGRAPHS["lisbon"]),
                                                           content_type="text/html")
    httpserver.expect_request("/vote").respond_with_data(article_html("Vote", PARAGRAPHS["vote"]),
                                                         content_type="text/html")
    url_list = tmp_path / "urls.txt"
    url_list.write_text(f"# my list\n{httpserver.url_for('/vote')}\n")
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "one.txt").write_text("Harbour news\n" + PARAGRAPHS["lisbon"].replace("Lisbon", "Porto"))
    summary = ingest_flow([source_from_argument(page_url), source_from_argument(str(url_list)),
                           source_from_argument(str(folder))], settings)
    assert summary.counts.loaded == 3
    urls = {r[0] for r in rows(settings, "select url from articles")}
    assert urls == {page_url, httpserver.url_for("/vote"), (folder / "one.txt").resolve().as_uri()}
    kinds = {r[0] for r in rows(settings, "select kind from sources")}
    assert kinds == {"auto"}


def test_sample_article_entities_and_topics(settings: Settings) -> None:
    """The user's sample article, served by the demo site, yields the entities an analyst expects."""
    with demo_site() as feed:
        ingest_flow([SourceConfig(name="demo", location=feed, kind="feed")], settings)
    sample = "title = 'US Senators Meet MEK Leader in Tirana'"
    entities = set(rows(settings, f"""
        select distinct e.name, e.entity_type from mentions m
        join entities e using (entity_id) join articles a using (article_id) where a.{sample}"""))
    people = {"Maryam Rajavi", "Rex Tillerson", "Edi Rama", "Thom Tillis", "Roy Blunt", "John Cornyn"}
    assert {(name, "person") for name in people} <= entities
    assert {("Tirana", "place"), ("Albania", "place"), ("Mojahedin-e-Khalq", "organization")} <= entities
    topics = {r[0] for r in rows(settings, f"select topic_id from article_topics join articles a using (article_id) "
                                           f"where a.{sample}")}
    assert "politics" in topics
    assert len(list(CORPUS_DIR.glob("*.html"))) == 6


def test_a_locked_warehouse_leaves_the_batch_staged_for_the_next_run(settings: Settings, site: str) -> None:
    patient = settings.model_copy(update={"warehouse": settings.warehouse.model_copy(
        update={"lock_wait_seconds": 0.5})})
    path = settings.warehouse.path
    summary = _ingest_while_locked(patient, site)
    assert summary.pending_batches == 1
    assert summary.counts.loaded == 0
    assert len(staged_batches(staging_dir(path))) == 1
    again = ingest_flow([SourceConfig(name="local", location=site)], patient)
    assert again.counts.loaded == 2  # the staged batch of the locked run is loaded now
    assert staged_batches(staging_dir(path)) == []
    assert rows(settings, "select count(*) from articles") == [(2,)]


def _ingest_while_locked(settings: Settings, site: str) -> RunSummary:
    """Run the flow while another process holds the warehouse's write lock during the load step."""
    from broadsheet.tasks import batch as batch_module

    path = settings.warehouse.path
    real_load_pending = batch_module.load_pending

    def locked_load_pending(target: Path, wait: float, **options: object) -> object:
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                                   "print('ready', flush=True); time.sleep(60)", str(getattr(target, "path", target))],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            return real_load_pending(target, wait, **options)  # type: ignore[arg-type]
        finally:
            holder.kill()
            holder.wait()

    batch_module.load_pending = locked_load_pending  # type: ignore[assignment]
    try:
        return ingest_flow([SourceConfig(name="local", location=site)], settings)
    finally:
        batch_module.load_pending = real_load_pending
        assert path.exists()


def test_the_run_publishes_a_summary_artifact(settings: Settings, site: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    summary = ingest_flow([SourceConfig(name="local", location=site)], settings)
    with get_client(sync_client=True) as client:
        key_filter = ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-summary"]))
        artifacts = client.read_artifacts(artifact_filter=key_filter)
    [artifact] = [a for a in artifacts if str(a.flow_run_id) == summary.run_id]
    assert artifact.type == "markdown"
    assert "| loaded | 2 |" in artifact.data
    assert "| fetch/http_status | 1 |" in artifact.data
