"""Sitemaps (urlset, index, gzip, text, news/image extensions, robots.txt), WARC/ARC files, and XML bombs.

Fixtures are written here by hand; remote sitemaps are served by pytest-httpserver on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import loopback
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from broadsheet.config.records import Candidate, Page
from broadsheet.config.settings import DiscoverSettings, Settings
from broadsheet.config.sources import SourceConfig, source_from_argument
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.sitemaps import parse_sitemap
from broadsheet.tasks.discover.sources import discover_source
from broadsheet.tasks.fetch.documents import file_url
from broadsheet.tasks.fetch.fetcher import fetch_pages
from broadsheet.tasks.fetch.warc import discover_archive

NOW = datetime(2026, 3, 3, tzinfo=UTC)
HTML = b"<!doctype html><html><head><title>Harbour</title></head><body><p>The harbour reopened.</p></body></html>"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
IMAGE = 'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
"""



def urlset(*entries: str) -> bytes:
    return f'<?xml version="1.0"?><urlset {NS} {NEWS} {IMAGE}>{"".join(entries)}</urlset>'.encode()


def url_entry(loc: str, lastmod: str = "", extra: str = "") -> str:
    return f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}{extra}</url>"


def index(*locs: str) -> bytes:
    children = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex {NS}>{children}</sitemapindex>'.encode()


# --- parsing ---------------------------------------------------------------------------------------


def test_urlset_with_news_and_image_extensions() -> None:
    news = ("<news:news><news:publication><news:name>Coast</news:name></news:publication>"
            "<news:publication_date>2026-03-02T08:30:00+01:00</news:publication_date>"
            "<news:title>Harbour &amp; bay reopen</news:title></news:news>")
    image = "<image:image><image:loc>https://coast.example/a.jpg</image:loc></image:image>"
    content = urlset(url_entry("https://coast.example/1", "2026-03-02", news + image),
                     url_entry(" https://coast.example/2 "), url_entry("ftp://coast.example/3"))

    sitemap = parse_sitemap(content, "https://coast.example/sitemap.xml", 10_000)

    first, second = sitemap.urls
    assert (first.url, first.lastmod, first.title) == (
        "https://coast.example/1", datetime(2026, 3, 2, tzinfo=UTC), "Harbour & bay reopen")
    assert first.published == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert first.images == ("https://coast.example/a.jpg",)
    assert second.url == "https://coast.example/2"
    assert sitemap.invalid == ["ftp://coast.example/3"]


def test_gzip_text_and_wrong_namespace() -> None:
    assert [u.url for u in parse_sitemap(gzip.compress(urlset(url_entry("https://a.test/1"))), "", 10_000).urls] \
        == ["https://a.test/1"]
    text = b"\xef\xbb\xbfhttps://a.test/1\n\nhttps://a.test/2\nnot a url\n"
    parsed = parse_sitemap(text, "", 10_000)
    assert (parsed.kind, [u.url for u in parsed.urls], parsed.invalid) == (
        "text", ["https://a.test/1", "https://a.test/2"], ["not a url"])
    odd = b'<urlset xmlns="http://example.com/wrong"><url><loc>https://a.test/x</loc></url></urlset>'
    assert [u.url for u in parse_sitemap(odd, "", 10_000).urls] == ["https://a.test/x"]


@pytest.mark.parametrize(("content", "phrase"), [
    (BOMB + b"<urlset><url><loc>&lol3;</loc></url></urlset>", "declares XML entities"),
    (b"<urlset><url><loc>https://a.test/1</loc></url>", "not well-formed"),
    (b"<html><body>hi</body></html>", "root element is <html>"),
    (b"just words, no links", "neither XML nor a text file"),
])
def test_bad_sitemaps(content: bytes, phrase: str) -> None:
    from broadsheet.config.errors import FetchError

    with pytest.raises(FetchError) as caught:
        parse_sitemap(content, "https://a.test/s.xml", 10_000)
    assert caught.value.code == "bad_sitemap"
    assert phrase in caught.value.message


def test_sitemap_gzip_bomb_is_too_large() -> None:
    from broadsheet.config.errors import FetchError

    with pytest.raises(FetchError) as caught:
        parse_sitemap(gzip.compress(b" " * 1_000_000), "https://a.test/s.xml.gz", 10_000)
    assert caught.value.code == "too_large"


def test_feed_xml_bomb_is_refused_before_feedparser() -> None:
    page = Page("https://a.test/feed", "https://a.test/feed", "s",
                BOMB + b'<rss version="2.0"><channel><item><title>&lol3;</title>'
                b"<link>https://a.test/1</link></item></channel></rss>", "application/rss+xml", NOW)
    found = parse_feed_page(page)
    assert found.candidates == []
    [rejection] = found.rejections
    assert rejection.error_type == "bad_feed"
    assert "declares XML entities" in rejection.message


def test_feed_with_leading_whitespace_and_relative_links() -> None:
    content = (b'\n\n  <?xml version="1.0"?><rss version="2.0"><channel><item><title>One</title>'
               b"<link>/news/1</link></item></channel></rss>")
    found = parse_feed_page(Page("https://a.test/feed.xml", "https://a.test/feed.xml", "s", content,
                                 "application/rss+xml", NOW))
    assert [c.url for c in found.candidates] == ["https://a.test/news/1"]


# --- remote sitemaps: indexes, bounds, loops, robots.txt -----------------------------------------


def test_index_is_followed_and_loops_are_read_once(httpserver: HTTPServer, settings: Settings) -> None:
    top, child, loop = (loopback(httpserver, p) for p in ("/sitemap.xml", "/news.xml", "/loop.xml"))
    httpserver.expect_request("/sitemap.xml").respond_with_data(index(child, loop), content_type="application/xml")
    httpserver.expect_request("/news.xml").respond_with_data(
        urlset(url_entry("https://coast.example/1", "2026-03-01T10:00:00Z")), content_type="application/xml")
    httpserver.expect_request("/loop.xml").respond_with_data(index(top), content_type="application/xml")

    found = discover_source(SourceConfig(name="coast", location=top, kind="sitemap"), settings.http)

    assert [(c.url, c.modified_hint) for c in found.candidates] == [
        ("https://coast.example/1", datetime(2026, 3, 1, 10, tzinfo=UTC))]
    assert [(r.url, r.error_type) for r in found.rejections] == [(top, "sitemap_loop")]
    assert sorted(request.path for request, _ in httpserver.log) == ["/loop.xml", "/news.xml", "/sitemap.xml"]


def test_auto_recognises_a_remote_sitemap(httpserver: HTTPServer, settings: Settings) -> None:
    url = loopback(httpserver, "/sitemap.xml")
    httpserver.expect_request("/sitemap.xml").respond_with_data(urlset(url_entry("https://coast.example/1")),
                                                                content_type="text/xml")
    found = discover_source(source_from_argument(url), settings.http)
    assert [c.url for c in found.candidates] == ["https://coast.example/1"]


def test_depth_bound(httpserver: HTTPServer, settings: Settings) -> None:
    levels = [loopback(httpserver, f"/s{i}.xml") for i in range(4)]
    for i in range(3):
        httpserver.expect_request(f"/s{i}.xml").respond_with_data(index(levels[i + 1]))
    found = discover_source(SourceConfig(name="c", location=levels[0], kind="sitemap"), settings.http,
                            DiscoverSettings(max_sitemap_depth=1))
    assert [(r.url, r.error_type) for r in found.rejections] == [(levels[2], "sitemap_limit")]
    assert "discover.max_sitemap_depth=1" in found.rejections[0].message


def test_count_bound(httpserver: HTTPServer, settings: Settings) -> None:
    children = [loopback(httpserver, f"/c{i}.xml") for i in range(5)]
    httpserver.expect_request("/index.xml").respond_with_data(index(*children))
    for i in range(5):
        httpserver.expect_request(f"/c{i}.xml").respond_with_data(urlset(url_entry(f"https://a.test/{i}")))
    found = discover_source(SourceConfig(name="c", location=loopback(httpserver, "/index.xml"), kind="sitemap"),
                            settings.http, DiscoverSettings(max_sitemaps=3))
    assert len(found.candidates) == 2  # the index itself counts as one of the three
    assert [r.error_type for r in found.rejections] == ["sitemap_limit"] * 3


def test_site_root_reads_the_sitemaps_robots_txt_declares(httpserver: HTTPServer, settings: Settings) -> None:
    sitemap = loopback(httpserver, "/sitemap-news.xml")
    httpserver.expect_request("/robots.txt").respond_with_data(f"User-agent: *\nSitemap: {sitemap}\n")
    httpserver.expect_request("/sitemap-news.xml").respond_with_data(urlset(url_entry("https://a.test/1")))
    found = discover_source(SourceConfig(name="c", location=loopback(httpserver, "/"), kind="sitemap"),
                            settings.http)
    assert [c.url for c in found.candidates] == ["https://a.test/1"]


def test_unchanged_sitemap_is_skipped(httpserver: HTTPServer, settings: Settings) -> None:
    import hashlib

    from broadsheet.config.records import Validators
    from broadsheet.tasks.discover.sources import DiscoverContext

    body = urlset(url_entry("https://a.test/1"))
    url = loopback(httpserver, "/sitemap.xml")
    httpserver.expect_request("/sitemap.xml").respond_with_data(body)
    known = {url: Validators(None, None, hashlib.sha256(body).hexdigest(), NOW)}
    context = DiscoverContext(settings.http, validators=lambda urls: {u: known[u] for u in urls if u in known})

    found = discover_source(SourceConfig(name="c", location=url, kind="sitemap"), settings.http, context=context)

    assert found.candidates == [] and found.rejections == []
    assert found.unchanged == [url]


def test_local_sitemap_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "sitemap.xml"
    path.write_bytes(urlset(url_entry("https://a.test/1")))
    found = discover_source(source_from_argument(str(path)), settings.http)
    assert [c.url for c in found.candidates] == ["https://a.test/1"]


# --- WARC ------------------------------------------------------------------------------------------


def write_warc(path: Path, records: list[tuple[str, int, bytes]], gz: bool = True) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gz)
        for uri, status, body in records:
            headers = StatusAndHeaders(f"{status} OK", [("Content-Type", "text/html; charset=utf-8")],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers,
                                               warc_headers_dict={"WARC-Date": "2024-05-06T07:08:09Z"})
            writer.write_record(record)


@pytest.mark.parametrize("gz", [True, False])
def test_warc_records_become_pages_without_network(tmp_path: Path, settings: Settings, gz: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    write_warc(path, [("https://coast.example/1", 200, HTML), ("https://coast.example/gone", 404, b"no"),
                      ("https://coast.example/2", 200, HTML + b"<!-- 2 -->")], gz)

    found = discover_source(source_from_argument(str(path)), settings.http)
    outcome = fetch_pages(found.candidates, settings.http.model_copy(update={"allow_private_addresses": False}))

    assert [c.url for c in found.candidates] == ["https://coast.example/1", "https://coast.example/gone",
                                                 "https://coast.example/2"]
    assert [(p.url, p.content_type, p.charset) for p in outcome.pages] == [
        ("https://coast.example/1", "text/html", "utf-8"), ("https://coast.example/2", "text/html", "utf-8")]
    assert outcome.pages[0].content == HTML
    assert outcome.pages[0].fetched_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert [(r.url, r.error_type) for r in outcome.rejections] == [("https://coast.example/gone", "http_status")]
    assert outcome.fetches == []


def test_truncated_warc_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    whole = tmp_path / "whole.warc.gz"
    write_warc(whole, [(f"https://coast.example/{i}", 200, HTML * 20) for i in range(3)])
    data = whole.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) - 200] + b"garbage that is not gzip")

    candidates, rejections = discover_archive(cut, "crawl")

    assert [c.url for c in candidates] == ["https://coast.example/0", "https://coast.example/1"]
    [rejection] = rejections  # the cut record, or the bytes after the last whole one
    assert rejection.error_type == "bad_warc" and str(cut) in rejection.message


def test_warc_in_a_folder_and_forced_kind(tmp_path: Path, settings: Settings) -> None:
    write_warc(tmp_path / "a.warc.gz", [("https://coast.example/1", 200, HTML)])
    (tmp_path / "b.html").write_bytes(HTML)
    found = discover_source(source_from_argument(str(tmp_path)), settings.http)
    assert sorted(c.url for c in found.candidates) == sorted(["https://coast.example/1",
                                                              file_url(tmp_path / "b.html")])
    odd = tmp_path / "crawl.data"
    write_warc(odd, [("https://coast.example/9", 200, HTML)])
    forced = discover_source(SourceConfig(name="w", location=str(odd), kind="warc"), settings.http)
    assert [c.url for c in forced.candidates] == ["https://coast.example/9"]


def test_warc_record_with_a_non_http_uri_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "odd.warc.gz"
    write_warc(path, [("dns:coast.example", 200, b"1.2.3.4"), ("https://coast.example/1", 200, HTML)])
    candidates, rejections = discover_archive(path, "crawl")
    assert [c.url for c in candidates] == ["https://coast.example/1"]
    assert [(r.url, r.error_type) for r in rejections] == [("dns:coast.example", "invalid_url")]


def test_remote_warc_is_not_supported(settings: Settings) -> None:
    found = discover_source(SourceConfig(name="w", location="https://a.test/x.warc.gz", kind="warc"),
                            settings.http)
    assert [r.error_type for r in found.rejections] == ["unsupported_source"]


def test_candidate_for_a_missing_archive_is_bad_warc(tmp_path: Path, settings: Settings) -> None:
    from broadsheet.config.records import ArchiveRef

    candidate = Candidate("https://a.test/1", "w", archive=ArchiveRef(str(tmp_path / "gone.warc"), 0))
    outcome = fetch_pages([candidate], settings.http)
    assert [r.error_type for r in outcome.rejections] == ["bad_warc"]
