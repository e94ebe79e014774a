"""Discovery: candidates from feeds (over HTTP on 127.0.0.1 and from local files), pages, folders and URL lists.

Every feed here is written inline, small enough to read at a glance; every bad source is checked
for its exact rejection (stage ``discover``, error type, and the phrase that tells the user why).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest
from helpers import loopback
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, Discovery, Page
from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig, source_from_argument
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.sources import discover_folder, discover_source, discover_url_list
from broadsheet.tasks.fetch.documents import file_url

NOW = datetime(2026, 3, 3, tzinfo=UTC)
HTML = b"<!doctype html><html><head><title>Front page</title></head><body><p>News.</p></body></html>"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Coast Times</title><link>https://coast.example/</link>
<item><title>  Harbour reopens  </title><link>/story/1</link>
  <pubDate>Mon, 02 Mar 2026 10:30:00 +0200</pubDate></item>
<item><title>Storm warning</title><link>storm.html</link>
  <pubDate>Sun, 01 Mar 2026 06:00:00 GMT</pubDate></item>
<item><title>Elsewhere</title><link>https://other.example/a?b=1</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Coast Times</title><id>urn:coast</id>
<updated>2026-03-02T10:00:00Z</updated>
<entry><title>Harbour reopens</title><id>urn:1</id><link rel="alternate" href="/story/1"/>
  <published>2026-03-02T09:00:00+01:00</published><updated>2026-03-02T12:00:00Z</updated></entry>
<entry><title type="text">Storm &amp; rain</title><id>urn:2</id><link href="https://other.example/b"/>
  <updated>2026-03-01T06:00:00Z</updated></entry>
</feed>"""

JSON_FEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Coast Times",
    "items": [
        {"id": "1", "url": "/story/1", "title": " Harbour reopens ", "date_published": "2026-03-02T10:30:00+02:00"},
        {"id": "2", "external_url": "https://other.example/b", "date_published": "2026-03-01T06:00:00"},
        {"id": "3", "url": "https://coast.example/3", "title": "", "date_published": "not a date"},
        {"id": "4", "title": "No link at all"},
    ],
}).encode()



def serve(server: HTTPServer, path: str, body: bytes, content_type: str, status: int = 200) -> str:
    server.expect_request(path).respond_with_data(body, status=status, content_type=content_type)
    return loopback(server, path)


def feed_page(content: bytes, content_type: str = "application/rss+xml",
              url: str = "https://coast.example/news/feed") -> Page:
    return Page(url, url, "coast", content, content_type, NOW)


def rss_item(inner: str) -> bytes:
    return f'<rss version="2.0"><channel><title>T</title><item>{inner}</item></channel></rss>'.encode()


# --- feeds over HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["feed", "auto"])
def test_rss_items_become_candidates_with_hints(httpserver: HTTPServer, settings: Settings, kind: str) -> None:
    url = serve(httpserver, "/news/feed.xml", RSS, "application/rss+xml")
    base = loopback(httpserver, "")

    found = discover_source(SourceConfig(name="coast", location=url, kind=kind), settings.http)

    assert found.rejections == []
    assert found.pages == []
    assert found.candidates == [
        Candidate(f"{base}/story/1", "coast", "Harbour reopens", datetime(2026, 3, 2, 8, 30, tzinfo=UTC)),
        Candidate(f"{base}/news/storm.html", "coast", "Storm warning", datetime(2026, 3, 1, 6, 0, tzinfo=UTC)),
        Candidate("https://other.example/a?b=1", "coast", "Elsewhere", None),
    ]
    assert all(c.published_hint is None or c.published_hint.tzinfo is UTC for c in found.candidates)
    [record] = found.fetches
    assert (record.url, record.status_code) == (url, 200)
    assert len(httpserver.log) == 1


def test_relative_links_resolve_against_the_final_feed_url(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/old-feed").respond_with_data(b"", status=301, headers={"Location": "/news/feed.xml"})
    serve(httpserver, "/news/feed.xml", RSS, "application/rss+xml")
    base = loopback(httpserver, "")

    found = discover_source(source_from_argument(loopback(httpserver, "/old-feed")), settings.http)

    assert [c.url for c in found.candidates][:2] == [f"{base}/story/1", f"{base}/news/storm.html"]
    assert [r.status_code for r in found.fetches] == [301, 200]


def test_atom_entries_become_candidates(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/atom", ATOM, "application/atom+xml")

    found = discover_source(source_from_argument(url), settings.http)

    assert found.rejections == []
    assert found.candidates == [
        # published wins over updated; the offset is folded into UTC
        Candidate(loopback(httpserver, "/story/1"), url, "Harbour reopens", datetime(2026, 3, 2, 8, 0, tzinfo=UTC)),
        Candidate("https://other.example/b", url, "Storm & rain", datetime(2026, 3, 1, 6, 0, tzinfo=UTC)),
    ]


def test_html_title_becomes_a_plain_text_hint() -> None:
    content = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="https://coast.example/1"/>'
               b'<title type="html">&lt;b&gt;Storm&lt;/b&gt; &amp;amp; rain</title></entry></feed>')
    found = parse_feed_page(feed_page(content, "application/atom+xml"))
    assert [c.title_hint for c in found.candidates] == ["Storm & rain"]


def test_rss_served_as_octet_stream_is_sniffed_as_feed(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed", RSS, "application/octet-stream")
    found = discover_source(source_from_argument(url), settings.http)
    assert len(found.candidates) == 3
    assert found.pages == []


def json_candidates(first_url: str, source: str) -> list[Candidate]:
    """What JSON_FEED yields once its relative first link is resolved to ``first_url``."""
    return [
        Candidate(first_url, source, "Harbour reopens", datetime(2026, 3, 2, 8, 30, tzinfo=UTC)),
        Candidate("https://other.example/b", source, None, datetime(2026, 3, 1, 6, 0, tzinfo=UTC)),
        Candidate("https://coast.example/3", source, None, None),  # an empty title and a bad date are no hints
    ]


def test_json_feed_over_http(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed.json", JSON_FEED, "application/feed+json")

    found = discover_source(SourceConfig(name="coast", location=url, kind="auto"), settings.http)

    assert found.candidates == json_candidates(loopback(httpserver, "/story/1"), "coast")
    assert [(r.stage, r.url, r.error_type, r.message) for r in found.rejections] == [
        ("discover", url, "no_link", "feed item 'No link at all' has no link")]


def test_json_feed_from_a_local_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "feed.json"
    path.write_bytes(JSON_FEED)

    found = discover_source(SourceConfig(name="coast", location=str(path)), settings.http)

    # A relative link in a feed on disk has no web address to resolve against: it is rejected.
    assert found.candidates == json_candidates("file:///story/1", "coast")[1:]
    assert [(r.error_type, r.url) for r in found.rejections] == [("invalid_url", "file:///story/1"),
                                                                 ("no_link", file_url(path))]
    assert found.fetches == []


def test_local_rss_file_is_parsed(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "feed.rss"
    path.write_bytes(RSS)
    found = discover_source(SourceConfig(name="coast", location=str(path)), settings.http)
    assert [c.title_hint for c in found.candidates] == ["Elsewhere"]  # the relative links have no web base
    assert found.candidates[0].url == "https://other.example/a?b=1"
    assert {r.error_type for r in found.rejections} == {"invalid_url"}


# --- feeds: bad items and bad feeds ----------------------------------------------------------------


def test_item_without_link_is_rejected_and_guid_url_is_used() -> None:
    content = (b'<rss version="2.0"><channel><title>T</title>'
               b"<item><title>Orphan</title><description>No link here.</description></item>"
               b'<item><title>By guid</title><guid isPermaLink="true">https://coast.example/g/7</guid></item>'
               b'<item><title>Opaque guid</title><guid isPermaLink="false">tag:coast,2026:8</guid></item>'
               b"</channel></rss>")
    page = feed_page(content)

    found = parse_feed_page(page)

    assert found.candidates == [Candidate("https://coast.example/g/7", "coast", "By guid", None)]
    assert [(r.stage, r.url, r.source, r.error_type, r.transient) for r in found.rejections] == [
        ("discover", page.final_url, "coast", "no_link", False)] * 2
    assert [r.message for r in found.rejections] == ["feed item 'Orphan' has no link",
                                                     "feed item 'Opaque guid' has no link"]


def test_feed_kind_that_is_not_xml_is_bad_feed(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed", b"Dear reader, this is a letter, not a feed.", "text/plain")

    found = discover_source(SourceConfig(name="coast", location=url, kind="feed"), settings.http)

    assert found.candidates == [] and found.pages == []
    [rejection] = found.rejections
    assert (rejection.stage, rejection.url, rejection.source) == ("discover", url, "coast")
    assert (rejection.error_type, rejection.transient) == ("bad_feed", False)
    assert rejection.message.startswith(f"{url} is not a readable feed: ")


def test_feed_kind_with_broken_json_is_bad_feed(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed.json", b'{"items": [', "application/feed+json")
    found = discover_source(SourceConfig(name="coast", location=url, kind="feed"), settings.http)
    [rejection] = found.rejections
    assert rejection.error_type == "bad_feed"
    assert rejection.message.startswith(f"{url} is not a readable JSON Feed: ")


@pytest.mark.parametrize("content", [b'{"version": "x"}', b'{"items": {"url": "https://a.example/"}}', b"[1, 2]",
                                     b'"items"'])
def test_json_without_an_item_list_is_bad_feed(content: bytes) -> None:
    found = parse_feed_page(feed_page(content, "application/feed+json"))
    assert [r.error_type for r in found.rejections] == ["bad_feed"]
    assert found.candidates == []


def test_feed_answering_500_is_transient_http_status(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed", b"oops", "text/plain", status=500)

    found = discover_source(SourceConfig(name="coast", location=url, kind="feed"), settings.http)

    assert found.candidates == [] and found.pages == []
    [rejection] = found.rejections
    assert (rejection.stage, rejection.url, rejection.source) == ("discover", url, "coast")
    assert (rejection.error_type, rejection.transient) == ("http_status", True)
    assert rejection.message == f"{url} answered HTTP 500"
    assert [r.status_code for r in found.fetches] == [500]


@pytest.mark.parametrize(("path", "content", "content_type"), [
    ("/feed.xml", rss_item("<title>Secret</title><link>file:///etc/hostname</link>"), "application/rss+xml"),
    ("/feed.json", json.dumps({"items": [{"url": "file:///etc/hostname"}]}).encode(), "application/feed+json"),
])
def test_remote_feed_cannot_point_at_local_files(httpserver: HTTPServer, settings: Settings, path: str,
                                                 content: bytes, content_type: str) -> None:
    url = serve(httpserver, path, content, content_type)

    found = discover_source(source_from_argument(url, "feed"), settings.http)

    assert found.candidates == []
    assert [r.stage for r in found.rejections] == ["discover"]


def test_json_item_with_empty_external_url_has_no_link() -> None:
    found = parse_feed_page(feed_page(json.dumps({"items": [{"id": "1", "external_url": ""}]}).encode(),
                                      "application/feed+json"))
    assert found.candidates == []
    assert [r.error_type for r in found.rejections] == ["no_link"]


def test_json_item_with_malformed_url_is_rejected_not_raised() -> None:
    found = parse_feed_page(feed_page(json.dumps({"items": [{"url": "http://[oops"}]}).encode(),
                                      "application/feed+json"))
    assert found.candidates == []
    assert [r.stage for r in found.rejections] == ["discover"]


def test_feed_with_an_empty_body_is_bad_feed(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/feed.xml", b"", "application/rss+xml")

    found = discover_source(SourceConfig(name="coast", location=url, kind="feed"), settings.http)

    assert [(r.stage, r.url, r.error_type) for r in found.rejections] == [("discover", url, "bad_feed")]


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+01:00"])
def test_rss_date_beyond_the_calendar_is_no_hint(date: str) -> None:
    found = parse_feed_page(feed_page(rss_item(f"<link>https://coast.example/1</link><pubDate>{date}</pubDate>")))
    assert found.candidates == [Candidate("https://coast.example/1", "coast", None, None)]


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+01:00"])
def test_json_date_beyond_the_calendar_is_no_hint(date: str) -> None:
    content = json.dumps({"items": [{"url": "https://coast.example/1", "date_published": date}]}).encode()
    found = parse_feed_page(feed_page(content, "application/feed+json"))
    assert found.candidates == [Candidate("https://coast.example/1", "coast", None, None)]


# --- URLs: pages and kinds -------------------------------------------------------------------------


def test_auto_url_serving_html_is_a_page_fetched_once(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/front", HTML, "text/html; charset=utf-8")

    found = discover_source(SourceConfig(name="front", location=url), settings.http)

    assert found.candidates == [] and found.rejections == []
    [page] = found.pages
    assert (page.url, page.final_url, page.source, page.content, page.content_type) == (
        url, url, "front", HTML, "text/html")
    assert [r.status_code for r in found.fetches] == [200]
    assert len(httpserver.log) == 1


def test_page_kind_is_a_candidate_without_a_request(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/front", HTML, "text/html")

    found = discover_source(SourceConfig(name="front", location=url, kind="page"), settings.http)

    assert found == Discovery(candidates=[Candidate(url, "front")])
    assert httpserver.log == []


def test_feed_kind_serving_a_pdf_is_bad_feed(httpserver: HTTPServer, settings: Settings) -> None:
    url = serve(httpserver, "/report", b"%PDF-1.7 ...", "application/pdf")
    found = discover_source(SourceConfig(name="r", location=url, kind="feed"), settings.http)
    assert [r.error_type for r in found.rejections] == ["bad_feed"]
    assert found.pages == [] and found.candidates == []


def test_location_that_does_not_exist_is_unreadable(tmp_path: Path, settings: Settings) -> None:
    location = str(tmp_path / "nowhere" / "feed.xml")

    found = discover_source(SourceConfig(name="lost", location=location), settings.http)

    assert found.candidates == [] and found.pages == [] and found.fetches == []
    [rejection] = found.rejections
    assert (rejection.stage, rejection.url, rejection.source) == ("discover", location, "lost")
    assert (rejection.error_type, rejection.transient) == ("unreadable_file", False)
    assert rejection.message == f"{location} is neither an http(s) URL nor an existing file or folder"


def test_ftp_location_is_unreadable(settings: Settings) -> None:
    found = discover_source(source_from_argument("ftp://files.example/feed.xml"), settings.http)
    assert [r.error_type for r in found.rejections] == ["unreadable_file"]


# --- folders ---------------------------------------------------------------------------------------


def write(path: Path, content: bytes = b"<p>x</p>") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("kind", ["folder", "auto"])
def test_folder_documents_in_path_order(tmp_path: Path, settings: Settings, kind: str) -> None:
    corpus = tmp_path / "corpus"
    z = write(corpus / "z.htm")
    a = write(corpus / "a.html")
    nested_gz = write(corpus / "b" / "deep" / "c.html.gz", gzip.compress(HTML))
    nested_txt = write(corpus / "b" / "notes.txt", b"Headline\n\nBody.")
    png = write(corpus / "b" / "photo.png", b"\x89PNG\r\n")
    write(corpus / ".DS_Store", b"\x00")

    found = discover_source(SourceConfig(name="archive", location=str(corpus), kind=kind), settings.http)

    assert [c.url for c in found.candidates] == [file_url(p) for p in (a, nested_gz, nested_txt, z)]
    assert all(c.url.startswith("file:///") and c.source == "archive" for c in found.candidates)
    assert [(r.stage, r.url, r.source, r.error_type) for r in found.rejections] == [
        ("discover", file_url(png), "archive", "unsupported_file")]
    assert found.rejections[0].message.startswith("photo.png is not a document broadsheet reads")
    assert found.fetches == [] and found.pages == []


def test_empty_folder_finds_nothing(tmp_path: Path) -> None:
    assert discover_folder(tmp_path, "empty") == Discovery()


def test_hidden_documents_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / ".draft.html")
    assert discover_folder(tmp_path, "archive") == Discovery()


def test_files_in_hidden_folders_are_ignored(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "config", b"[core]")
    write(tmp_path / ".cache" / "page.html")
    assert discover_folder(tmp_path, "archive") == Discovery()


# --- URL lists -------------------------------------------------------------------------------------


URL_LIST = "\n".join([
    "# morning run",
    "https://coast.example/story/1",
    "",
    "   http://coast.example/story/2   ",  # surrounding blanks are trimmed
    "# a comment between",
    "coast.example/no-scheme",
    "https://coast.example/has space",
    "https://coast.example/story/3",
]) + "\n"


def test_url_list_lines(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(URL_LIST)

    found = discover_source(SourceConfig(name="list", location=str(path), kind="urls"), settings.http)

    assert found.candidates == [Candidate("https://coast.example/story/1", "list"),
                                Candidate("http://coast.example/story/2", "list"),
                                Candidate("https://coast.example/story/3", "list")]
    assert [(r.stage, r.url, r.source, r.error_type, r.message) for r in found.rejections] == [
        ("discover", "coast.example/no-scheme", "list", "invalid_url", f"line 6 of {path} is not an http(s) URL"),
        ("discover", "https://coast.example/has space", "list", "invalid_url",
         f"line 7 of {path} is not an http(s) URL"),
    ]
    assert found.fetches == []


def test_auto_kind_recognises_a_url_list(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "feeds.urls"
    path.write_text("# list\nhttps://coast.example/1\n\nhttps://coast.example/2\n")
    found = discover_source(source_from_argument(str(path)), settings.http)
    assert [c.url for c in found.candidates] == ["https://coast.example/1", "https://coast.example/2"]


def test_auto_kind_prose_txt_is_a_document(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Harbour reopens\n\nThe harbour reopened on Monday.\n")
    found = discover_source(SourceConfig(name="one", location=str(path)), settings.http)
    assert found == Discovery(candidates=[Candidate(file_url(path), "one")])


def test_url_list_of_a_missing_file_raises_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as caught:
        discover_url_list(tmp_path / "missing.txt", "list")
    assert caught.value.code == "unreadable_file"


def test_url_list_with_malformed_bracket_line(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("https://coast.example/1\nhttp://[oops\n")

    found = discover_source(SourceConfig(name="list", location=str(path), kind="urls"), settings.http)

    assert [c.url for c in found.candidates] == ["https://coast.example/1"]
    assert [(r.error_type, r.message) for r in found.rejections] == [
        ("invalid_url", f"line 2 of {path} is not an http(s) URL")]


# --- properties ------------------------------------------------------------------------------------


def is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@hypothesis_settings(max_examples=100, deadline=None, database=None)
@given(content=st.binary(min_size=1, max_size=600), content_type=st.sampled_from(
    ["application/rss+xml", "application/atom+xml", "application/xml", "application/feed+json", "text/html"]))
def test_parse_feed_page_never_raises_on_bytes(content: bytes, content_type: str) -> None:
    # The empty body does raise: test_feed_with_an_empty_body_is_bad_feed documents that bug.
    found = parse_feed_page(feed_page(content, content_type))
    assert all(c.source == "coast" for c in found.candidates)
    assert all((r.stage, r.source) == ("discover", "coast") for r in found.rejections)


@hypothesis_settings(max_examples=100, deadline=None, database=None)
@given(link=st.one_of(st.text(max_size=80), st.builds(lambda path: f"https://coast.example/{path}",
                                                      st.text(max_size=40))))
def test_parse_feed_page_never_raises_on_item_links(link: str) -> None:
    found = parse_feed_page(feed_page(rss_item(f"<title>T</title><link>{escape(link)}</link>")))

    assert all(c.url.strip() for c in found.candidates)
    if is_http_url(link.strip()):
        assert found.candidates or found.rejections
