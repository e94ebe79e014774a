# ruff: noqa: RUF001  (non-Latin scripts and look-alike letters are the point of these tests)
"""Hostile and malformed pages: each gets an exact outcome, an article or a named rejection.

Pages go through the real fetch (a server on 127.0.0.1), the HTML gate and extraction, as in a run.
Already covered elsewhere: wrong Content-Type (test_politeness.py::test_wrong_content_type_is_sniffed_or_rejected),
a lying charset header (test_politeness.py::test_lying_charset_header_is_extracted_right), gzip bombs and
truncated gzip (test_fetch.py), endless bodies (test_politeness.py::test_endless_body_stops_at_the_cap).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from helpers import article_html
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from broadsheet.config.records import Article, Candidate
from broadsheet.config.settings import Settings
from broadsheet.tasks.extract.article import extract_articles
from broadsheet.tasks.fetch.charset import decode_html, mostly_utf8
from broadsheet.tasks.fetch.documents import require_html
from broadsheet.tasks.fetch.fetcher import fetch_pages

TEXT = ("Lisbon's city council approved a new tram line on Tuesday. Mayor Carlos Moedas said the line would "
        "link the airport with the old town by 2028, and the transport agency Carris will run it.")
FIFTY_MB = 50 * 1024 * 1024


def outcome(httpserver: HTTPServer, settings: Settings, body: bytes,
            content_type: str = "text/html") -> Article | tuple[str, str, str]:
    """The article the page becomes, or its rejection as (stage, error type, message)."""
    httpserver.expect_request("/page").respond_with_data(body, content_type=content_type)
    fetched = fetch_pages([Candidate(httpserver.url_for("/page"), "hostile")], settings.http)
    html, not_html = require_html(fetched.pages)
    articles, rejected = extract_articles(html, settings.extract)
    rejections = fetched.rejections + not_html + rejected
    assert len(articles) + len(rejections) == 1  # never lost, never doubled
    if articles:
        return articles[0]
    return rejections[0].stage, rejections[0].error_type, rejections[0].message


def test_empty_page_is_no_text(httpserver: HTTPServer, settings: Settings) -> None:
    stage, code, message = outcome(httpserver, settings, b"")  # type: ignore[misc]
    assert (stage, code) == ("extract", "no_text") and "0 characters extracted" in message


def test_binary_bytes_served_as_html_are_no_text(httpserver: HTTPServer, settings: Settings) -> None:
    stage, code, _ = outcome(httpserver, settings, os.urandom(20_000))  # type: ignore[misc]
    assert (stage, code) == ("extract", "no_text")


def test_binary_bytes_without_a_type_are_not_html(httpserver: HTTPServer, settings: Settings) -> None:
    stage, code, message = outcome(httpserver, settings, b"\x89PNG\r\n\x1a\n" + os.urandom(5000),  # type: ignore[misc]
                                   "application/octet-stream")
    assert (stage, code) == ("fetch", "not_html") and "application/octet-stream" in message


def test_truncated_page_keeps_the_text_before_the_cut(httpserver: HTTPServer, settings: Settings) -> None:
    full = article_html("Tram", TEXT).encode()
    article = outcome(httpserver, settings, full[: len(full) * 2 // 3])
    assert isinstance(article, Article) and article.text.startswith("Lisbon's city council")


def test_deeply_nested_tags_are_no_text_not_a_crash(httpserver: HTTPServer, settings: Settings) -> None:
    depth = 100_000
    body = b"<html><body>" + b"<div>" * depth + TEXT.encode() + b"</div>" * depth + b"</body></html>"
    stage, code, _ = outcome(httpserver, settings, body)  # type: ignore[misc]
    assert (stage, code) == ("extract", "no_text")  # the HTML parser refuses the depth: no text, a clear code


def test_a_nested_page_of_modest_depth_is_read(httpserver: HTTPServer, settings: Settings) -> None:
    body = ("<html><body>" + "<div>" * 200 + f"<article><p>{TEXT}</p><p>{TEXT}</p></article>" + "</div>" * 200
            + "</body></html>")
    assert isinstance(outcome(httpserver, settings, body.encode()), Article)


def test_gigantic_page_is_streamed_and_stopped_at_the_cap(httpserver: HTTPServer, settings: Settings) -> None:
    sent = [0]

    def fifty_megabytes(_request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield b"<html><body><p>"
            while sent[0] < FIFTY_MB:
                sent[0] += 1 << 20
                yield b"a" * (1 << 20)
        return Response(chunks(), content_type="text/html", headers={"Content-Length": str(FIFTY_MB + 15)})

    httpserver.expect_request("/huge").respond_with_handler(fifty_megabytes)
    fetched = fetch_pages([Candidate(httpserver.url_for("/huge"), "hostile")], settings.http)
    [rejection] = fetched.rejections
    assert (rejection.error_type, fetched.pages) == ("too_large", [])
    assert f"http.max_body_bytes={settings.http.max_body_bytes}" in rejection.message
    [record] = fetched.fetches
    assert settings.http.max_body_bytes < record.bytes_read <= settings.http.max_body_bytes + (1 << 20)
    assert sent[0] < FIFTY_MB  # the rest was never read


def test_missing_charset_windows_1252_is_read(httpserver: HTTPServer, settings: Settings) -> None:
    """This test found "às" read as "ŕs": charset_normalizer ties cp1250 with cp1252 and picked the first."""
    body = article_html("Café", TEXT + " O café da praça, já famoso, abriu às nove.").encode("cp1252")
    article = outcome(httpserver, settings, body, "text/html")
    assert isinstance(article, Article) and "já famoso, abriu às nove" in article.text and article.title == "Café"


def test_mixed_encodings_keep_the_utf8_majority(httpserver: HTTPServer, settings: Settings) -> None:
    """A UTF-8 page with a paragraph pasted from a Windows-1252 source (this test found it garbled, title too)."""
    body = (article_html("Café à noite", TEXT + " O café da praça, já famoso, abriu às nove.").encode()
            .replace(b"</article>", "<p>Ça coûte très cher à Lisbonne, déjà.</p></article>".encode("cp1252")))
    article = outcome(httpserver, settings, body)
    assert isinstance(article, Article) and article.title == "Café à noite"
    assert "já famoso, abriu às nove" in article.text and "Ça coûte très cher à Lisbonne" in article.text


def test_mostly_utf8_leaves_other_encodings_alone() -> None:
    assert mostly_utf8("Zürich über Brücke".encode("cp1252")) is None  # no valid UTF-8 at all
    assert mostly_utf8(b"plain ascii") is None
    assert mostly_utf8("naïve café ".encode() + b"\x93quoted\x94") == "naïve café \u201cquoted\u201d"
    assert decode_html("Ça".encode("utf-16")) == "Ça"


@pytest.mark.parametrize(("language", "text"), [
    ("ar", "أعلن مجلس مدينة لشبونة يوم الثلاثاء عن خط ترام جديد يربط المطار بالمدينة القديمة بحلول عام "
           "ألفين وثمانية وعشرين، وقال رئيس البلدية إن المشروع سيغير المدينة."),
    ("zh", "里斯本市议会周二批准了一条新的有轨电车线路。市长表示，这条线路将在2028年前连接机场和老城区，交通局将负责"
           "运营。居民们对这一决定表示欢迎，认为它将改善城市交通。"),
    ("ru", "Городской совет Лиссабона во вторник одобрил новую трамвайную линию. Мэр сказал, что линия свяжет "
           "аэропорт со старым городом к 2028 году, а транспортное агентство будет ею управлять."),
    ("hi", "लिस्बन नगर परिषद ने मंगलवार को एक नई ट्राम लाइन को मंजूरी दी। महापौर ने कहा कि यह लाइन 2028 तक "
           "हवाई अड्डे को पुराने शहर से जोड़ेगी और परिवहन एजेंसी इसे चलाएगी।"),
])
def test_non_english_scripts_are_read_with_their_language(httpserver: HTTPServer, settings: Settings,
                                                          language: str, text: str) -> None:
    article = outcome(httpserver, settings, article_html(language, text).encode(), "text/html; charset=utf-8")
    assert isinstance(article, Article) and article.language == language and text[:40] in article.text


@pytest.mark.parametrize("hostile", ["\u200b", "\u2060", "\ufeff", "\x00", "\x07", "\x1b", "\x7f"])
def test_zero_width_control_and_nul_characters_do_not_reach_the_text(httpserver: HTTPServer, settings: Settings,
                                                                     hostile: str) -> None:
    dirty = TEXT.replace("council", f"coun{hostile}cil").replace("tram", f"tr{hostile}{hostile}am")
    article = outcome(httpserver, settings, article_html(f"Tr{hostile}am", dirty).encode())
    assert isinstance(article, Article)
    assert hostile not in article.text and hostile not in (article.title or "")
    assert "council approved a new tram line" in article.text
