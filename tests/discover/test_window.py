"""ingest --since and --limit: candidates kept by their feed, sitemap or WARC date, and a big source taken in
pieces (the limit counts only documents the warehouse does not hold yet)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from helpers import WIRE, article_html, loopback, rows
from pytest_httpserver import HTTPServer
from test_sitemaps_warc import url_entry, urlset, write_warc

from broadsheet.config.settings import DiscoverSettings, Settings
from broadsheet.config.sources import SourceConfig, source_from_argument
from broadsheet.tasks.discover import discover_source, select_candidates

NEWS_ITEM = ("<news:news><news:publication><news:name>Coast</news:name><news:language>en</news:language>"
             "</news:publication><news:publication_date>{}</news:publication_date><news:title>T</news:title>"
             "</news:news>")
FEED = """<?xml version='1.0'?><rss version='2.0'><channel><title>Coast</title>
<item><title>New</title><link>https://coast.example/new</link><pubDate>Thu, 03 Dec 2026 08:00:00 GMT</pubDate></item>
<item><title>Undated</title><link>https://coast.example/undated</link></item>
<item><title>Old</title><link>https://coast.example/old</link><pubDate>Mon, 30 Nov 2026 23:59:00 GMT</pubDate></item>
</channel></rss>"""


def nothing_stored(_urls: list[str]) -> set[str]:
    return set()


def test_since_keeps_feed_items_dated_on_or_after_the_day_and_the_undated(tmp_path: Path, settings: Settings) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    found = discover_source(source_from_argument(str(feed)), settings.http)
    window = select_candidates(found.candidates, DiscoverSettings(since=date(2026, 12, 1)), nothing_stored)
    assert [c.url for c in window.candidates] == ["https://coast.example/new", "https://coast.example/undated"]
    assert (window.before_since, window.undated) == (1, 1)


def test_since_reads_sitemap_lastmod_news_dates_and_warc_dates(tmp_path: Path, settings: Settings) -> None:
    sitemap = tmp_path / "sitemap.xml"
    sitemap.write_bytes(urlset(
        url_entry("https://coast.example/a", "2026-12-02"),
        url_entry("https://coast.example/b", "2026-11-02"),
        url_entry("https://coast.example/c", extra=NEWS_ITEM.format("2026-12-01T06:00:00Z")),
        url_entry("https://coast.example/d", "2026-11-30T23:00:00-02:00"),  # 1 December, 01:00 UTC
    ))
    found = discover_source(source_from_argument(str(sitemap)), settings.http)
    window = select_candidates(found.candidates, DiscoverSettings(since=date(2026, 12, 1)), nothing_stored)
    assert [c.url for c in window.candidates] == [f"https://coast.example/{x}" for x in "acd"]

    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, [("https://coast.example/w", 200, b"<html></html>")])  # captured 2024-05-06
    records = discover_source(SourceConfig(name="w", location=str(warc), kind="warc"), settings.http).candidates
    assert select_candidates(records, DiscoverSettings(since=date(2024, 5, 6)), nothing_stored).candidates == records
    assert select_candidates(records, DiscoverSettings(since=date(2024, 5, 7)), nothing_stored).candidates == []


def test_limit_takes_the_first_documents_not_seen_yet() -> None:
    from broadsheet.config.records import Candidate

    candidates = [Candidate(f"https://coast.example/{i}", "s") for i in range(5)]
    stored = {"https://coast.example/0", "https://coast.example/2"}
    window = select_candidates(candidates, DiscoverSettings(limit=2), lambda urls: stored & set(urls))
    assert [c.url for c in window.candidates] == ["https://coast.example/1", "https://coast.example/3"]
    assert (window.already_seen, window.over_limit) == (2, 1)
    assert select_candidates(candidates, DiscoverSettings(), nothing_stored).candidates == candidates


@pytest.mark.usefixtures("prefect_harness")
def test_a_big_sitemap_is_ingested_in_pieces(httpserver: HTTPServer, settings: Settings) -> None:
    from broadsheet.flows.ingest import ingest_flow

    stories = {f"/story-{i}": f"Story {i} " + WIRE.replace("quarter point", f"quarter point ({i})") for i in range(5)}
    for path, text in stories.items():
        if path == "/story-1":  # a dead link early in the sitemap must not stall the pieces
            httpserver.expect_request(path).respond_with_data("gone", status=404)
        else:
            httpserver.expect_request(path).respond_with_data(article_html(path, text), content_type="text/html")
    dates = ["2026-12-02", "2026-12-01", "2025-01-01", "", "2026-12-03"]
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        urlset(*(url_entry(loopback(httpserver, p), d) for p, d in zip(stories, dates, strict=True))),
        content_type="application/xml")
    source = [SourceConfig(name="coast", location=loopback(httpserver, "/sitemap.xml"), kind="sitemap")]

    def ingest(**window: object) -> list[str]:
        ingest_flow(source, settings.model_copy(update={"discover": settings.discover.model_copy(update=window)}))
        return sorted(url.rsplit("/", 1)[1] for (url,) in rows(settings, "select url from articles"))

    assert ingest(limit=2) == ["story-0"]  # story-1 answered 404
    assert ingest(limit=2, since=date(2026, 12, 1)) == ["story-0", "story-3", "story-4"]  # 3: undated; 2: too old
    assert ingest(limit=2) == ["story-0", "story-2", "story-3", "story-4"]
    fetched = [request.path for request, _ in httpserver.log]
    assert fetched.count("/story-1") == 1 and fetched.count("/story-0") == 1
