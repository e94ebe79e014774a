"""Hostile feeds and sitemaps: entity tricks, external DTDs, huge feeds, and dates in any format.

Already covered elsewhere: the billion-laughs feed
(test_sitemaps_warc.py::test_feed_xml_bomb_is_refused_before_feedparser), bad and gzip-bomb sitemaps
(test_sitemaps_warc.py::test_bad_sitemaps, ::test_sitemap_gzip_bomb_is_too_large), sitemap index loops
(test_sitemaps_warc.py::test_index_is_followed_and_loops_are_read_once), and random bytes as a feed
(test_discover.py::test_parse_feed_page_never_raises_on_bytes).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from broadsheet.config.records import Page
from broadsheet.config.settings import HttpSettings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.sitemaps import read_sitemap_page
from broadsheet.tasks.discover.sources import discover_source

NOW = datetime(2026, 3, 3, tzinfo=UTC)
XXE_DECLARATIONS = {
    "file": '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    "http": '<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/secret">]>',
    "parameter": '<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    "quadratic": '<!DOCTYPE r [<!ENTITY a "' + "A" * 50_000 + '">]>',
    "utf16": '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
}


def page(body: bytes, content_type: str = "application/rss+xml", url: str = "https://n.example/feed.xml") -> Page:
    return Page(url, url, "hostile", body, content_type, NOW)


def rss_with(declaration: str, link: str = "&x;") -> bytes:
    return (f"<?xml version='1.0'?>{declaration}<rss version='2.0'><channel><title>T</title>"
            f"<item><title>&x;</title><link>https://n.example/{link}</link></item></channel></rss>").encode()


@pytest.mark.parametrize("kind", sorted(XXE_DECLARATIONS))
def test_feeds_declaring_entities_are_refused(kind: str) -> None:
    body = rss_with(XXE_DECLARATIONS[kind])
    if kind == "utf16":
        body = body.decode().replace("version='1.0'", "version='1.0' encoding='utf-16'").encode("utf-16")
    found = parse_feed_page(page(body))
    assert found.candidates == []
    [rejection] = found.rejections
    assert (rejection.stage, rejection.error_type) == ("discover", "bad_feed")
    assert "declares XML entities" in rejection.message


@pytest.mark.parametrize("kind", ["file", "http", "parameter", "quadratic"])
def test_sitemaps_declaring_entities_are_refused(kind: str) -> None:
    body = (f"<?xml version='1.0'?>{XXE_DECLARATIONS[kind]}<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            "<url><loc>https://n.example/&x;</loc></url></urlset>").encode()
    found, children = read_sitemap_page(page(body, "application/xml", "https://n.example/sitemap.xml"), 10_000_000)
    assert (found.candidates, children) == ([], [])
    [rejection] = found.rejections
    assert rejection.error_type == "bad_sitemap" and "declares XML entities" in rejection.message


def test_an_external_dtd_is_never_fetched(httpserver: HTTPServer) -> None:
    dtd = httpserver.url_for("/evil.dtd")
    httpserver.expect_request("/evil.dtd").respond_with_data('<!ENTITY x "pwned">')
    body = (f"<?xml version='1.0'?><!DOCTYPE rss SYSTEM '{dtd}'><rss version='2.0'><channel><title>T</title>"
            "<item><title>Safe</title><link>https://n.example/a</link></item></channel></rss>").encode()
    httpserver.expect_request("/feed.xml").respond_with_data(body, content_type="application/rss+xml")
    found = discover_source(SourceConfig(name="dtd", location=httpserver.url_for("/feed.xml")),
                            HttpSettings(allow_private_addresses=True, obey_robots=False, host_delay_seconds=0))
    assert [c.url for c in found.candidates] == ["https://n.example/a"]
    assert [request.path for request, _ in httpserver.log] == ["/feed.xml"]


@pytest.mark.slow
def test_a_feed_with_100000_items_yields_every_item() -> None:
    items = "".join(f"<item><title>Item {i}</title><link>https://n.example/{i}</link></item>" for i in range(100_000))
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()
    assert len(body) < HttpSettings().max_body_bytes  # 7 MB: within the default cap, so it is read whole
    found = parse_feed_page(page(body))
    assert len(found.candidates) == 100_000 and found.rejections == []
    assert len({c.url for c in found.candidates}) == 100_000
    assert found.candidates[-1].title_hint == "Item 99999"


@pytest.mark.slow
def test_a_json_feed_with_100000_items_yields_every_item() -> None:
    items = ",".join(f'{{"id": "{i}", "url": "https://n.example/{i}"}}' for i in range(100_000))
    body = f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{items}]}}'.encode()
    found = parse_feed_page(page(body, "application/feed+json"))
    assert len(found.candidates) == 100_000 and found.rejections == []


@pytest.mark.parametrize(("raw", "expected"), [
    ("Tue, 03 Mar 2026 10:00:00 GMT", datetime(2026, 3, 3, 10, tzinfo=UTC)),
    ("Tue, 03 Mar 2026 10:00:00 +0100", datetime(2026, 3, 3, 9, tzinfo=UTC)),
    ("2026-03-03T10:00:00Z", datetime(2026, 3, 3, 10, tzinfo=UTC)),
    ("2026-03-03T10:00:00+02:00", datetime(2026, 3, 3, 8, tzinfo=UTC)),
    ("2026-03-03", datetime(2026, 3, 3, tzinfo=UTC)),
    ("03 Mar 2026", datetime(2026, 3, 3, tzinfo=UTC)),
    ("yesterday", None),
    ("", None),
    ("1772532000", None),  # feedparser read it as 1 Nov 1772: dates before 1900 are dropped (found here)
    ("1899-12-31T00:00:00Z", None),
    ("Tue, 99 Foo 2026 99:99:99 GMT", None),
    ("Fri, 31 Dec 99999 23:59:59 GMT", None),
    ("0000-00-00T00:00:00Z", None),
])
def test_rss_item_dates_in_any_format_or_none(raw: str, expected: datetime | None) -> None:
    body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>A</title>"
            f"<link>https://n.example/a</link><pubDate>{raw}</pubDate></item></channel></rss>").encode()
    [candidate] = parse_feed_page(page(body)).candidates
    assert candidate.published_hint == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ('"2026-03-03T10:00:00Z"', datetime(2026, 3, 3, 10, tzinfo=UTC)),
    ('"2026-03-03"', datetime(2026, 3, 3, tzinfo=UTC)),
    ('"Tue, 03 Mar 2026 10:00:00 GMT"', None),
    ("1772532000", None),
    ("null", None),
    ('{"nested": true}', None),
    ('"9999-99-99"', None),
])
def test_json_item_dates_in_any_format_or_none(raw: str, expected: datetime | None) -> None:
    body = f'{{"items": [{{"url": "https://n.example/a", "date_published": {raw}}}]}}'.encode()
    [candidate] = parse_feed_page(page(body, "application/feed+json")).candidates
    assert candidate.published_hint == expected


@pytest.mark.parametrize("lastmod", ["", "not a date", "2026-13-45", "2026-03-03T10:00:00Z"])
def test_sitemap_lastmod_in_any_format_keeps_the_url(lastmod: str) -> None:
    body = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url>"
            f"<loc>https://n.example/a</loc><lastmod>{lastmod}</lastmod></url></urlset>").encode()
    found, _ = read_sitemap_page(page(body, "application/xml", "https://n.example/sitemap.xml"), 10_000_000)
    [candidate] = found.candidates
    assert candidate.modified_hint == (datetime(2026, 3, 3, 10, tzinfo=UTC) if lastmod.startswith("2026-03") else None)


# Every encoding family the XML spec's detection (appendix F) tells apart, with and without a byte order
# mark, and a sample of the ASCII-compatible ones a declaration may name.
XML_ENCODINGS = [("UTF-8", "utf-8"), ("UTF-8", "utf-8-sig"), ("UTF-16", "utf-16"), ("UTF-16", "utf-16-be"),
                 ("UTF-16", "utf-16-le"), ("UTF-32", "utf-32"), ("UTF-32", "utf-32-be"), ("UTF-32", "utf-32-le"),
                 ("ISO-10646-UCS-4", "utf-32-be"), ("cp037", "cp037"), ("EBCDIC-CP-US", "cp037"), ("cp500", "cp500"),
                 ("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252"), ("ISO-8859-5", "iso-8859-5"),
                 ("KOI8-R", "koi8-r"), ("Shift_JIS", "shift_jis"), ("EUC-JP", "euc-jp"), ("GB18030", "gb18030"),
                 ("Big5", "big5"), ("US-ASCII", "ascii")]


def declared_feed(encoding: str, declaration: str = "", title: str = "Harbour news") -> str:
    return (f'<?xml version="1.0" encoding="{encoding}"?>{declaration}<rss version="2.0"><channel><title>T</title>'
            f"<item><title>{title}</title><link>https://n.example/a</link></item></channel></rss>")


@pytest.mark.parametrize(("name", "codec"), XML_ENCODINGS)
def test_entity_declarations_are_refused_in_every_encoding(name: str, codec: str) -> None:
    laughs = '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    found = parse_feed_page(page(declared_feed(name, laughs, "&b;").encode(codec)))
    assert not found.candidates  # UTF-32 without a BOM and cp037 used to be expanded
    [rejection] = found.rejections
    assert rejection.error_type == "bad_feed" and "entit" in rejection.message.lower()


@pytest.mark.parametrize(("name", "codec"), XML_ENCODINGS)
def test_a_plain_feed_is_read_in_every_encoding(name: str, codec: str) -> None:
    found = parse_feed_page(page(declared_feed(name).encode(codec)))
    assert [(c.url, c.title_hint) for c in found.candidates] == [("https://n.example/a", "Harbour news")]
