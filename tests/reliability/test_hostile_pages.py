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
from broadsheet.tasks.fetch.plausibility import plausible

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


FRENCH = ("Le conseil municipal de Lyon s'est réuni mardi soir à l'hôtel de ville. Le maire a présenté le budget "
          "de l'année prochaine, et les élus ont voté à une large majorité. Le café à côté de la mairie était plein.")


def test_a_latin1_french_page_served_as_utf16_is_read_as_latin1(httpserver: HTTPServer, settings: Settings) -> None:
    """UTF-16 reads any even number of bytes without error: the declared charset decoded this page to CJK."""
    body = article_html("Café à côté", FRENCH).encode("latin-1")
    body += b" " * (len(body) % 2)
    article = outcome(httpserver, settings, body, "text/html; charset=utf-16")
    assert isinstance(article, Article) and article.title == "Café à côté" and article.language == "fr"
    assert "réuni mardi soir à l'hôtel de ville" in article.text


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_cafe_a_cote_without_a_charset_is_not_garbled(httpserver: HTTPServer, settings: Settings,
                                                      encoding: str) -> None:
    """charset_normalizer guessed mac_latin2 ("Cafť ŗ cŰtť") or cp775 ("Cafķ Ó c¶tķ") for such a page."""
    article = outcome(httpserver, settings, article_html("Café à côté", FRENCH).encode(encoding), "text/html")
    assert isinstance(article, Article) and article.title == "Café à côté"
    assert "réuni mardi soir à l'hôtel de ville" in article.text


@pytest.mark.parametrize(("charset", "language", "text"), [
    ("utf-8", "fr", FRENCH),
    ("windows-1251", "ru", "Городской совет Лиссабона во вторник одобрил новую трамвайную линию. Мэр сказал, что "
                           "линия свяжет аэропорт со старым городом к 2028 году, а транспортное агентство будет ею "
                           "управлять."),
    ("shift_jis", "ja", "リスボン市議会は火曜日、新しい路面電車の路線を承認した。市長によると、この路線は"
                        "二〇二八年までに空港と旧市街を結び、交通局が運営する。住民はこの決定を歓迎し、"
                        "市内の交通が良くなると話した。"),
])
def test_a_page_whose_charset_is_true_is_read_as_declared(httpserver: HTTPServer, settings: Settings, charset: str,
                                                          language: str, text: str) -> None:
    body = article_html(language, text).encode(charset)
    article = outcome(httpserver, settings, body, f"text/html; charset={charset}")
    assert isinstance(article, Article) and article.language == language and text[:30] in article.text


def test_a_utf16_page_without_a_byte_order_mark_is_read_as_declared() -> None:
    """Its ASCII letters are valid UTF-8 too, a NUL after each: that reading is not plausible."""
    page = article_html("Harbour", TEXT)
    assert decode_html(page.encode("utf-16-le"), "utf-16") == page
    assert decode_html(page.encode("utf-16-be"), "utf-16-be") == page


@pytest.mark.parametrize(("text", "encoding"), [
    ("<p>Le café est à côté de la gare, où les élèves attendent.</p>" * 3, "utf-16"),  # the even-length trap
    ("<p>Городской совет обсудил новый бюджет, и жители высказали мнение.</p>", "cp1252"),  # "Ãîðîäñêîé"
    ("<p>Le café est à côté de la gare, où les élèves attendent.</p>", "cp1251"),  # "cafй": scripts in a word
    ("<p>Le café est à côté de la gare, où les élèves attendent.</p>", "mac_latin2"),  # "cŰtť": a capital inside
])
def test_a_charset_that_decodes_without_error_can_still_be_implausible(text: str, encoding: str) -> None:
    content = text.encode("cp1251" if "Город" in text else "cp1252")
    content += b" " * (len(content) % 2)
    assert not plausible(content, encoding)
    assert plausible(content, "cp1251" if "Город" in text else "cp1252")


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
