"""Fetching: pages over HTTP from a real server on 127.0.0.1, local files, and the exact rejection of each failure.

HTTP tests use pytest-httpserver (single-threaded, on loopback) and build their URLs on 127.0.0.1;
the few tests that need a "public" host or concurrent requests use ``httpx.MockTransport`` and never
open a socket beyond loopback.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from helpers import loopback
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, Page
from broadsheet.config.settings import HttpSettings, Settings
from broadsheet.tasks.fetch.documents import file_url, read_local, require_html, sniff_content_type
from broadsheet.tasks.fetch.fetcher import fetch_pages, translate_httpx_error
from broadsheet.tasks.fetch.guard import check_address

HTML = b"<!doctype html><html><head><title>Harbour</title></head><body><p>The harbour reopened.</p></body></html>"
PUBLISHED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
NOW = datetime(2026, 3, 3, tzinfo=UTC)



def http(settings: Settings, **update: object) -> HttpSettings:
    return settings.http.model_copy(update=update)


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def page(url: str, content_type: str, content: bytes = HTML) -> Page:
    return Page(url, url, "test", content, content_type, NOW)


def local(path: Path) -> Candidate:
    return Candidate(file_url(path), "folder", "Hint", PUBLISHED)


# --- HTTP: success ---------------------------------------------------------------------------------


def test_html_page_fields_record_and_user_agent(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/story").respond_with_data(
        HTML, content_type="text/html; charset=utf-8",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Mar 2026 08:30:00 GMT"})
    url = loopback(httpserver, "/story")

    outcome = fetch_pages([Candidate(url, "coast", "A hint", PUBLISHED)],
                          http(settings, user_agent="broadsheet-tests/1.0"))

    assert outcome.rejections == []
    [fetched] = outcome.pages
    assert (fetched.url, fetched.final_url, fetched.source) == (url, url, "coast")
    assert (fetched.content, fetched.content_type) == (HTML, "text/html")
    assert (fetched.title_hint, fetched.published_hint) == ("A hint", PUBLISHED)
    assert fetched.fetched_at.tzinfo is UTC
    [record] = outcome.fetches
    assert (record.url, record.final_url, record.status_code) == (url, url, 200)
    assert record.content_type == "text/html; charset=utf-8"
    assert record.bytes_read == len(HTML)
    assert (record.etag, record.last_modified) == ('"v1"', "Mon, 02 Mar 2026 08:30:00 GMT")
    assert (record.error_type, record.error_message) == (None, None)
    assert record.elapsed_ms >= 0
    [(request, _)] = httpserver.log
    assert request.headers["User-Agent"] == "broadsheet-tests/1.0"


def test_missing_content_type_is_sniffed(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/bare").respond_with_response(Response(HTML, headers={"Content-Type": ""}))
    outcome = fetch_pages([Candidate(loopback(httpserver, "/bare"), "test")], settings.http)
    assert [p.content_type for p in outcome.pages] == ["text/html"]


# --- HTTP: status codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "transient"), [(404, False), (410, False), (500, True), (503, True),
                                                    (429, True)])
def test_error_status_is_rejected(httpserver: HTTPServer, settings: Settings, status: int,
                                  transient: bool) -> None:
    httpserver.expect_request("/gone").respond_with_data(b"nope", status=status)
    url = loopback(httpserver, "/gone")

    outcome = fetch_pages([Candidate(url, "test")], settings.http)

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.url, rejection.source) == ("fetch", url, "test")
    assert (rejection.error_type, rejection.transient) == ("http_status", transient)
    assert rejection.message == f"{url} answered HTTP {status}"
    [record] = outcome.fetches
    assert (record.url, record.status_code, record.bytes_read) == (url, status, 4)


# --- HTTP: redirects -------------------------------------------------------------------------------


def redirect(server: HTTPServer, path: str, location: str, status: int = 301) -> None:
    server.expect_request(path).respond_with_data(b"", status=status, headers={"Location": location})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_followed_and_each_hop_recorded(httpserver: HTTPServer, settings: Settings,
                                                    status: int) -> None:
    redirect(httpserver, "/old", "/new", status)  # relative Location, resolved against /old
    httpserver.expect_request("/new").respond_with_data(HTML, content_type="text/html")
    old, new = loopback(httpserver, "/old"), loopback(httpserver, "/new")

    outcome = fetch_pages([Candidate(old, "test")], settings.http)

    [fetched] = outcome.pages
    assert (fetched.url, fetched.final_url, fetched.content) == (old, new, HTML)
    assert [(r.url, r.status_code) for r in outcome.fetches] == [(old, status), (new, 200)]
    assert [r.error_type for r in outcome.fetches] == [None, None]


def test_redirect_loop_is_rejected(httpserver: HTTPServer, settings: Settings) -> None:
    redirect(httpserver, "/a", loopback(httpserver, "/b"))
    redirect(httpserver, "/b", loopback(httpserver, "/a"))
    a, b = loopback(httpserver, "/a"), loopback(httpserver, "/b")

    outcome = fetch_pages([Candidate(a, "test")], settings.http)

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.error_type, rejection.transient) == ("fetch", "too_many_redirects", False)
    assert rejection.message == f"redirect loop at {a}"
    assert [(r.url, r.status_code) for r in outcome.fetches] == [(a, 301), (b, 301)]


def chain(server: HTTPServer, hops: int) -> list[str]:
    """``/r0`` redirects to ``/r1`` ... up to ``/r{hops}``, which is a page; returns the URLs."""
    for i in range(hops):
        redirect(server, f"/r{i}", f"/r{i + 1}", 302)
    server.expect_request(f"/r{hops}").respond_with_data(HTML, content_type="text/html")
    return [loopback(server, f"/r{i}") for i in range(hops + 1)]


def test_chain_longer_than_max_redirects_is_rejected(httpserver: HTTPServer, settings: Settings) -> None:
    urls = chain(httpserver, 4)

    outcome = fetch_pages([Candidate(urls[0], "test")], http(settings, max_redirects=2))

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.error_type, rejection.transient) == ("too_many_redirects", False)
    assert rejection.message == f"more than 2 redirects from {urls[0]}"
    assert [r.url for r in outcome.fetches] == urls[:3]  # the fourth hop is never requested
    assert len(httpserver.log) == 3


def test_chain_of_exactly_max_redirects_is_followed(httpserver: HTTPServer, settings: Settings) -> None:
    urls = chain(httpserver, 2)

    outcome = fetch_pages([Candidate(urls[0], "test")], http(settings, max_redirects=2))

    assert outcome.rejections == []
    assert [p.final_url for p in outcome.pages] == [urls[2]]
    assert [r.status_code for r in outcome.fetches] == [302, 302, 200]


def test_max_redirects_zero_rejects_any_redirect(httpserver: HTTPServer, settings: Settings) -> None:
    urls = chain(httpserver, 1)
    outcome = fetch_pages([Candidate(urls[0], "test")], http(settings, max_redirects=0))
    assert [r.error_type for r in outcome.rejections] == ["too_many_redirects"]
    assert [r.url for r in outcome.fetches] == urls[:1]


# --- HTTP: size caps -------------------------------------------------------------------------------


def test_body_over_cap_is_rejected(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000, content_type="text/html")
    url = loopback(httpserver, "/big")

    outcome = fetch_pages([Candidate(url, "test")], http(settings, max_body_bytes=2000))

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.error_type, rejection.transient) == ("fetch", "too_large", False)
    assert rejection.message == f"{url} body exceeds http.max_body_bytes=2000"
    [record] = outcome.fetches
    assert (record.status_code, record.error_type) == (200, "too_large")
    assert 2000 < record.bytes_read <= 5000


def test_body_of_exactly_the_cap_is_kept(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/edge").respond_with_data(b"x" * 2000, content_type="text/html")
    outcome = fetch_pages([Candidate(loopback(httpserver, "/edge"), "test")], http(settings, max_body_bytes=2000))
    assert [len(p.content) for p in outcome.pages] == [2000]


def test_gzip_bomb_is_rejected_by_decompressed_size(httpserver: HTTPServer, settings: Settings) -> None:
    bomb = gzip.compress(b"<p>" + b"a" * 1_000_000 + b"</p>")
    assert len(bomb) < 2000  # small on the wire: only the decompressed size can trip the cap
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"})

    outcome = fetch_pages([Candidate(loopback(httpserver, "/bomb"), "test")], http(settings, max_body_bytes=2000))

    assert outcome.pages == []
    assert [(r.error_type, r.transient) for r in outcome.rejections] == [("too_large", False)]
    assert [r.error_type for r in outcome.fetches] == ["too_large"]


def test_gzip_response_within_cap_is_decompressed(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(HTML), content_type="text/html", headers={"Content-Encoding": "gzip"})
    outcome = fetch_pages([Candidate(loopback(httpserver, "/gz"), "test")], settings.http)
    assert [p.content for p in outcome.pages] == [HTML]


def test_corrupt_gzip_encoding_is_bad_encoding(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/bad").respond_with_data(
        b"this is not gzip at all", content_type="text/html", headers={"Content-Encoding": "gzip"})
    outcome = fetch_pages([Candidate(loopback(httpserver, "/bad"), "test")], settings.http)
    [rejection] = outcome.rejections
    assert (rejection.error_type, rejection.transient) == ("bad_encoding", False)
    assert "cannot be decoded" in rejection.message


# --- HTTP: timeouts and connection failures --------------------------------------------------------


def drip(done: threading.Event, chunks: int = 20, pause: float = 0.1) -> Iterator[bytes]:
    """A body that trickles in; ``done`` is set once the server stops sending (the client hung up)."""
    try:
        yield b"<!doctype html><html><body>"
        for _ in range(chunks):
            time.sleep(pause)
            yield b"<p>drop</p>"
    finally:
        done.set()


def finished(done: threading.Event) -> bool:
    """Wait for a slow handler to end, so its request cannot spill into the next test's server log."""
    return done.wait(timeout=3)


def test_slow_drip_body_hits_total_timeout(httpserver: HTTPServer, settings: Settings) -> None:
    # Each chunk arrives well within timeout_seconds, so only the end-to-end limit can stop it.
    done = threading.Event()
    httpserver.expect_request("/drip").respond_with_handler(
        lambda _request: Response(drip(done), content_type="text/html"))
    url = loopback(httpserver, "/drip")

    started = time.perf_counter()
    outcome = fetch_pages([Candidate(url, "test")], http(settings, timeout_seconds=1.0, total_timeout_seconds=0.4))

    assert time.perf_counter() - started < 1.5
    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.error_type, rejection.transient) == ("fetch", "timeout", True)
    assert rejection.message == f"{url} took longer than http.total_timeout_seconds=0.4"
    assert finished(done)


def test_slow_drip_body_is_recorded_as_a_fetch(httpserver: HTTPServer, settings: Settings) -> None:
    done = threading.Event()
    httpserver.expect_request("/drip").respond_with_handler(
        lambda _request: Response(drip(done), content_type="text/html"))
    url = loopback(httpserver, "/drip")

    outcome = fetch_pages([Candidate(url, "test")], http(settings, timeout_seconds=1.0, total_timeout_seconds=0.4))

    assert finished(done)
    assert [(r.url, r.status_code, r.error_type) for r in outcome.fetches] == [(url, 200, "timeout")]


def test_slow_response_hits_read_timeout(httpserver: HTTPServer, settings: Settings) -> None:
    done = threading.Event()

    def slow(_request: Request) -> Response:
        time.sleep(0.6)
        done.set()
        return Response(HTML, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    url = loopback(httpserver, "/slow")

    outcome = fetch_pages([Candidate(url, "test")], http(settings, timeout_seconds=0.2))

    assert finished(done)
    [rejection] = outcome.rejections
    assert (rejection.error_type, rejection.transient) == ("timeout", True)
    assert rejection.message == f"{url} timed out (ReadTimeout)"
    [record] = outcome.fetches
    assert (record.url, record.status_code, record.error_type) == (url, None, "timeout")


def test_connection_refused_is_transient_connect_error(settings: Settings) -> None:
    url = f"http://127.0.0.1:{unused_port()}/story"

    outcome = fetch_pages([Candidate(url, "test")], settings.http)

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.url, rejection.error_type, rejection.transient) == (
        "fetch", url, "connect_error", True)
    assert rejection.message.startswith(f"cannot fetch {url}: ")
    [record] = outcome.fetches
    assert (record.url, record.final_url, record.status_code, record.bytes_read) == (url, None, None, 0)
    assert record.error_type == "connect_error"


# --- addresses and schemes -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_address_is_blocked_before_any_request(httpserver: HTTPServer, settings: Settings,
                                                       host: str) -> None:
    httpserver.expect_request("/").respond_with_data(HTML, content_type="text/html")
    url = f"http://{host}:{httpserver.port}/"

    outcome = fetch_pages([Candidate(url, "test")], http(settings, allow_private_addresses=False))

    assert outcome.pages == []
    [rejection] = outcome.rejections
    assert (rejection.stage, rejection.error_type, rejection.transient) == ("fetch", "blocked_address", False)
    assert "non-public address" in rejection.message
    assert "http.allow_private_addresses = true" in rejection.message
    assert outcome.fetches == []
    assert httpserver.log == []


def test_redirect_to_private_address_is_blocked() -> None:
    """A public host may not bounce the fetcher onto loopback (the check runs on every hop)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})

    public = "http://93.184.216.34/story"  # an IP literal: resolved without DNS, and the transport is mocked
    outcome = fetch_pages([Candidate(public, "test")], HttpSettings(obey_robots=False),
                          transport=httpx.MockTransport(handler))

    assert seen == [public]
    assert [(r.error_type, r.url) for r in outcome.rejections] == [("blocked_address", public)]
    assert [(r.url, r.status_code) for r in outcome.fetches] == [(public, 302)]


@pytest.mark.parametrize("url", ["ftp://example.com/file.html", "file:///etc/passwd", "mailto:desk@example.com",
                                 "http:///no-host", "gopher://example.com/"])
def test_check_address_refuses_other_schemes(settings: Settings, url: str) -> None:
    with pytest.raises(FetchError) as caught:
        asyncio.run(check_address(url, settings.http))
    assert (caught.value.code, caught.value.transient) == ("unsupported_scheme", False)
    assert "only http(s) URLs are fetched" in caught.value.message


def test_check_address_allows_loopback_when_configured(settings: Settings) -> None:
    asyncio.run(check_address("http://127.0.0.1:9/", settings.http))  # no error, no connection made


def test_unsupported_scheme_candidate_is_rejected(settings: Settings) -> None:
    outcome = fetch_pages([Candidate("ftp://example.com/file.html", "test")], settings.http)
    assert [(r.stage, r.error_type) for r in outcome.rejections] == [("fetch", "unsupported_scheme")]
    assert outcome.fetches == []


@pytest.mark.parametrize("bad", ["http://[::1/story", "http://127.0.0.1:abc/story", "http://127.0.0.1:99999/story"])
def test_malformed_url_is_one_rejection_and_the_batch_goes_on(tmp_path: Path, settings: Settings, bad: str) -> None:
    good = tmp_path / "good.html"  # a local file, so no request can outlive the crash and reach the server
    good.write_bytes(HTML)

    outcome = fetch_pages([Candidate(bad, "test"), local(good)], settings.http)

    assert [p.url for p in outcome.pages] == [file_url(good)]
    assert [(r.stage, r.url, r.transient) for r in outcome.rejections] == [("fetch", bad, False)]


# --- translate_httpx_error -------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "code", "transient"), [
    (httpx.ConnectTimeout("slow"), "timeout", True),
    (httpx.ReadTimeout("slow"), "timeout", True),
    (httpx.PoolTimeout("slow"), "timeout", True),
    (httpx.DecodingError("bad gzip"), "bad_encoding", False),
    (httpx.ConnectError("refused"), "connect_error", True),
    (httpx.ReadError("reset"), "connect_error", True),
    (httpx.RemoteProtocolError("hung up"), "connect_error", True),
    (httpx.UnsupportedProtocol("gopher"), "unsupported_scheme", False),
    (httpx.ProxyError("proxy"), "fetch", True),
])
def test_translate_httpx_error(error: httpx.HTTPError, code: str, transient: bool) -> None:
    translated = translate_httpx_error("https://news.test/a", error)
    assert isinstance(translated, FetchError)
    assert (translated.code, translated.transient) == (code, transient)
    assert "https://news.test/a" in translated.message


# --- require_html and sniff_content_type -----------------------------------------------------------


def test_require_html_rejects_pdf_and_keeps_html() -> None:
    pdf = page("https://news.test/report.pdf", "application/pdf", b"%PDF-1.7")
    html = page("https://news.test/story", "text/html")
    xhtml = page("https://news.test/x", "application/xhtml+xml")

    kept, rejected = require_html([pdf, html, xhtml])

    assert kept == [html, xhtml]
    [rejection] = rejected
    assert (rejection.stage, rejection.url, rejection.source) == ("fetch", pdf.url, "test")
    assert (rejection.error_type, rejection.transient) == ("not_html", False)
    assert rejection.message == ("https://news.test/report.pdf is application/pdf, not an HTML page; "
                                 "only HTML pages are extracted")


def test_require_html_keeps_local_text_but_not_remote_text() -> None:
    local = page("file:///srv/news/story.txt", "text/plain", b"A headline\n\nBody.")
    remote = page("https://news.test/robots.txt", "text/plain", b"User-agent: *")

    kept, rejected = require_html([local, remote])

    assert kept == [local]
    assert [(r.url, r.error_type) for r in rejected] == [(remote.url, "not_html")]


def test_require_html_names_unknown_type() -> None:
    _, [rejection] = require_html([page("https://news.test/blob", "", b"")])
    assert "is of unknown type" in rejection.message


@pytest.mark.parametrize(("content", "declared", "expected"), [
    (b"<!DOCTYPE html><html></html>", None, "text/html"),
    (b"\xef\xbb\xbf\n  <!doctype html><p>x", "application/octet-stream", "text/html"),
    (b"<html><body>x</body></html>", "text/plain", "text/html"),
    (b"<div><head>x</head></div>", "binary/octet-stream", "text/html"),
    (b'<?xml version="1.0"?><rss version="2.0"></rss>', None, "application/xml"),
    (b'<rss version="2.0"><channel></channel></rss>', "application/octet-stream", "application/xml"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>', "", "application/xml"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', None, "application/feed+json"),
    (b"just words", "text/plain; charset=utf-8", "text/plain"),
    (b"\x00\x01binary", None, "application/octet-stream"),
    (b"%PDF-1.7", "application/octet-stream", "application/octet-stream"),
    # a specific declared type is believed, whatever the bytes say
    (b"<!doctype html><html></html>", "application/pdf", "application/pdf"),
    (b"<rss></rss>", "Text/HTML; charset=UTF-8", "text/html"),
    (b"<!doctype html>", "application/rss+xml", "application/rss+xml"),
])
def test_sniff_content_type(content: bytes, declared: str | None, expected: str) -> None:
    assert sniff_content_type(content, declared) == expected


@pytest.mark.parametrize("content", [
    b'<?xml version="1.0"?><rss version="2.0"><channel><item><description>'
    b"<![CDATA[<body><p>Story</p></body>]]></description></item></channel></rss>",
    b'<rss version="2.0"><channel><title>Headlines</title><item><headline>x</headline></item></channel></rss>',
])
def test_sniff_content_type_xml_root_wins_over_html_fragments(content: bytes) -> None:
    assert sniff_content_type(content, "application/octet-stream") == "application/xml"


# --- local files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "stored", "content_type"), [
    ("story.html", HTML, "text/html"),
    ("story.htm", HTML, "text/html"),
    ("story.html.gz", gzip.compress(HTML), "text/html"),
    ("story.txt", b"A headline\n\nThe body.", "text/plain"),
    ("feed.rss", b"<rss></rss>", "application/rss+xml"),
    ("no-suffix", HTML, "text/html"),
    ("a.b.c.html", HTML, "text/html"),
])
def test_read_local(tmp_path: Path, name: str, stored: bytes, content_type: str) -> None:
    path = tmp_path / name
    path.write_bytes(stored)
    candidate = local(path)

    read = read_local(candidate, 10_000)

    assert (read.url, read.final_url, read.source) == (candidate.url, candidate.url, "folder")
    assert read.content == (gzip.decompress(stored) if name.endswith(".gz") else stored)
    assert read.content_type == content_type
    assert (read.title_hint, read.published_hint) == ("Hint", PUBLISHED)


def test_read_local_percent_encoded_name(tmp_path: Path) -> None:
    path = tmp_path / "100% news #1?.html"
    path.write_bytes(HTML)
    assert read_local(local(path), 10_000).content == HTML


def test_read_local_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.html"
    with pytest.raises(FetchError) as caught:
        read_local(local(missing), 10_000)
    assert (caught.value.code, caught.value.transient) == ("unreadable_file", False)
    assert caught.value.message == f"cannot read {missing}: No such file or directory"


def test_read_local_folder_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FetchError) as caught:
        read_local(local(tmp_path), 10_000)
    assert caught.value.code == "unreadable_file"


def test_read_local_gz_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "story.html.gz"
    path.write_bytes(HTML)
    with pytest.raises(FetchError) as caught:
        read_local(local(path), 10_000)
    assert (caught.value.code, caught.value.transient) == ("bad_gzip", False)
    assert caught.value.message.startswith(f"{path} is not valid gzip: ")


def test_read_local_gz_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.html.gz"
    path.write_bytes(gzip.compress(b"a" * 1_000_000))
    with pytest.raises(FetchError) as caught:
        read_local(local(path), 2000)
    assert caught.value.code == "too_large"
    assert caught.value.message == f"{path} decompresses to more than 2000 bytes"


def test_read_local_file_over_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_bytes(b"x" * 2001)
    with pytest.raises(FetchError) as caught:
        read_local(local(path), 2000)
    assert caught.value.code == "too_large"
    assert caught.value.message == f"{path} is larger than http.max_body_bytes=2000"


def test_read_local_file_of_exactly_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    path.write_bytes(b"x" * 2000)
    assert len(read_local(local(path), 2000).content) == 2000


def test_read_local_truncated_gz(tmp_path: Path) -> None:
    whole = gzip.compress(HTML * 20)
    path = tmp_path / "cut.html.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(FetchError) as caught:
        read_local(local(path), 10_000)
    assert caught.value.code == "bad_gzip"


def test_read_local_upper_case_gz(tmp_path: Path) -> None:
    path = tmp_path / "STORY.HTML.GZ"
    path.write_bytes(gzip.compress(HTML))
    read = read_local(local(path), 10_000)
    assert (read.content, read.content_type) == (HTML, "text/html")


def test_fetch_pages_reads_file_candidates_without_requests(tmp_path: Path, settings: Settings) -> None:
    good, missing = tmp_path / "a.html", tmp_path / "missing.html"
    good.write_bytes(HTML)

    outcome = fetch_pages([local(good), local(missing)], settings.http)

    assert [(p.url, p.content) for p in outcome.pages] == [(file_url(good), HTML)]
    assert [(r.stage, r.url, r.error_type) for r in outcome.rejections] == [
        ("fetch", file_url(missing), "unreadable_file")]
    assert outcome.fetches == []


# --- many at once ----------------------------------------------------------------------------------


def test_many_candidates_are_all_fetched(httpserver: HTTPServer, settings: Settings) -> None:
    for i in range(30):
        if i % 7 == 3:
            httpserver.expect_request(f"/s{i}").respond_with_data(b"missing", status=404)
        else:
            httpserver.expect_request(f"/s{i}").respond_with_data(HTML + str(i).encode(), content_type="text/html")
    urls = [loopback(httpserver, f"/s{i}") for i in range(30)]

    outcome = fetch_pages([Candidate(u, "test") for u in urls], http(settings, concurrency=4))

    missing = {urls[i] for i in (3, 10, 17, 24)}
    assert {r.url for r in outcome.rejections} == missing
    assert {r.error_type for r in outcome.rejections} == {"http_status"}
    assert len(outcome.pages) == 26
    assert {p.url: p.content for p in outcome.pages} == {
        u: HTML + str(i).encode() for i, u in enumerate(urls) if u not in missing}
    assert sorted(r.url for r in outcome.fetches) == sorted(urls)
    assert len(httpserver.log) == 30


def test_concurrency_setting_bounds_requests_in_flight() -> None:
    in_flight, peak = 0, 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        if request.url.path.endswith("/5"):
            return httpx.Response(503)
        return httpx.Response(200, content=HTML, headers={"Content-Type": "text/html"})

    candidates = [Candidate(f"http://news.test/story/{i}", "test") for i in range(30)]
    unlimited_host = {"per_host_concurrency": 64, "host_delay_seconds": 0.0, "obey_robots": False, "max_retries": 0}
    outcome = fetch_pages(candidates, HttpSettings(concurrency=4, allow_private_addresses=True, **unlimited_host),
                          transport=httpx.MockTransport(handler))

    assert peak == 4
    assert len(outcome.pages) == 29
    assert [(r.url, r.error_type, r.transient) for r in outcome.rejections] == [
        ("http://news.test/story/5", "http_status", True)]
    assert len(outcome.fetches) == 30
