"""Extraction: text and metadata from HTML and text files, and the exact rejection of empty pages."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from broadsheet.config import ExtractError
from broadsheet.config.records import Page
from broadsheet.config.settings import Settings
from broadsheet.tasks.extract.article import (
    MAX_ATTRIBUTE_CHARS,
    bounded_tree,
    extract_article,
    extract_articles,
    split_authors,
)
from broadsheet.tasks.extract.identity import article_id, canonical_url, content_hash

BODY = " ".join(f"Paragraph sentence number {i} tells the reader something new about the harbour." for i in range(12))
HTML = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour reopens after storm | Coast Times</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta name="author" content="Ana Ruiz; Tom Bell">
<meta property="og:site_name" content="Coast Times">
<meta property="article:published_time" content="2026-03-02T08:30:00+00:00">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Harbour reopens after storm</h1><p>{BODY}</p><p>The mayor said work would go on.</p></article>
<footer>Copyright Coast Times</footer></body></html>"""
NOW = datetime(2026, 3, 3, tzinfo=UTC)


def page(content: bytes | str, content_type: str = "text/html", url: str = "https://coast.example/a?utm_source=x",
         **hints: object) -> Page:
    data = content.encode() if isinstance(content, str) else content
    return Page(url, url, "test", data, content_type, NOW, **hints)  # type: ignore[arg-type]


def test_html_article_text_and_metadata(settings: Settings) -> None:
    article = extract_article(page(HTML), settings.extract)
    assert article.title == "Harbour reopens after storm"
    assert article.authors == ("Ana Ruiz", "Tom Bell")
    assert article.site == "Coast Times"
    assert article.published_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # the time too, not just the day
    assert article.language == "en"
    assert article.text.startswith("Paragraph sentence number 0")  # the repeated headline is dropped
    assert "Home" not in article.text and "Copyright" not in article.text
    assert article.canonical_url == "https://coast.example/a"
    assert article.content_hash == content_hash(article.text)
    assert article.article_id == article_id(article.canonical_url, article.content_hash)
    assert article.extractor.startswith("trafilatura@")


def test_feed_hints_fill_missing_metadata(settings: Settings) -> None:
    bare = f"<html><body><article><p>{BODY}</p></article></body></html>"
    hinted = page(bare, title_hint="From the feed", published_hint=datetime(2026, 1, 5, tzinfo=UTC))
    article = extract_article(hinted, settings.extract)
    assert article.title == "From the feed"
    assert article.published_at == datetime(2026, 1, 5, tzinfo=UTC)


def test_plain_text_file_is_headline_then_body(settings: Settings) -> None:
    article = extract_article(page(f"A headline\n\n{BODY}\n", "text/plain", "file:///tmp/a.txt"), settings.extract)
    assert article.title == "A headline"
    assert article.text == BODY
    assert article.canonical_url == "file:///tmp/a.txt"


def test_latin1_text_file_is_read(settings: Settings) -> None:
    text = f"Caf\xe9 news\n{BODY} Caf\xe9.".encode("latin-1")
    article = extract_article(page(text, "text/plain", "file:///tmp/b.txt"), settings.extract)
    assert article.title == "Café news"


@pytest.mark.parametrize(
    "content",
    [
        "<html><head><title>Nothing</title></head><body><nav>Home</nav></body></html>",
        "",
        b"\x00\x01\x02\xff\xfe binary \x00",
        "<html><body><p>Too short.</p></body></html>",
    ],
)
def test_pages_without_text_are_rejected_as_no_text(settings: Settings, content: str | bytes) -> None:
    with pytest.raises(ExtractError, match="has no article text") as caught:
        extract_article(page(content), settings.extract)
    assert caught.value.code == "no_text"
    assert caught.value.transient is False


def test_binary_bytes_are_no_text_even_when_the_extractor_finds_text_in_them(settings: Settings) -> None:
    # seeded: about one body of random bytes in 300 extracts into a long "text"; the 16th of this seed does
    rng = random.Random(1)
    bodies = [rng.randbytes(20_000) for _ in range(20)]
    for body in bodies:
        with pytest.raises(ExtractError) as caught:
            extract_article(page(body), settings.extract)
        assert caught.value.code == "no_text"


@pytest.mark.parametrize("unreadable", [1, 30])
def test_text_with_a_few_unreadable_characters_is_kept_and_mostly_unreadable_text_is_not(
        settings: Settings, unreadable: int) -> None:
    paragraph = "Harbour news from the coast today. " * 30  # 1,050 characters
    html = f"<html><body><article><p>{paragraph}{chr(0xFFFD) * unreadable * 2}</p></article></body></html>"
    if unreadable == 1:
        assert extract_article(page(html), settings.extract).text.count(chr(0xFFFD)) == 2
    else:
        with pytest.raises(ExtractError, match="not text: 5% of the") as caught:
            extract_article(page(html), settings.extract)
        assert caught.value.code == "no_text"


def test_attribute_values_reach_trafilatura_bounded_and_without_a_stray_tag_opener() -> None:
    html = (f"<html><head><meta name='author' content='{'&lt;' * 300_000}'>"
            "<meta name='description' content='&lt;b&gt;Bold&lt;/b&gt; claim &lt; 3'></head><body></body></html>")
    tree = bounded_tree(html)
    assert tree is not None
    values = [value for element in tree.iter() for value in element.attrib.values()]
    assert all("<" not in value and len(value) <= MAX_ATTRIBUTE_CHARS for value in values)
    assert "Bold claim  3" in values


def test_a_meta_tag_of_300000_unclosed_tag_openers_is_read_in_linear_time(settings: Settings) -> None:
    # trafilatura's tag-stripping pattern is quadratic in them: this page held a worker for more than five minutes
    html = HTML.replace("<meta name=\"author\" content=\"Ana Ruiz; Tom Bell\">",
                        f"<meta name=\"author\" content=\"<b>Ana Ruiz</b>{'&lt;' * 300_000}\">")
    article = extract_article(page(html), settings.extract)
    assert article.authors == ("Ana Ruiz",) and article.title == "Harbour reopens after storm"


def test_non_html_content_is_rejected_as_not_html(settings: Settings) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_article(page(b"%PDF-1.4", "application/pdf"), settings.extract)
    assert caught.value.code == "not_html"


def test_extract_articles_turns_failures_into_rejections(settings: Settings) -> None:
    articles, rejections = extract_articles([page(HTML), page("", url="https://coast.example/empty")],
                                            settings.extract)
    assert len(articles) == 1
    assert [(r.stage, r.url, r.error_type) for r in rejections] == [
        ("extract", "https://coast.example/empty", "no_text")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Ana Ruiz; Tom Bell", ("Ana Ruiz", "Tom Bell")), ("Ana Ruiz and Tom Bell", ("Ana Ruiz", "Tom Bell")),
     ("", ()), (None, ()), ("Ana Ruiz; Ana Ruiz", ("Ana Ruiz",))],
)
def test_split_authors(value: str | None, expected: tuple[str, ...]) -> None:
    assert split_authors(value) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM:443/a/b?utm_source=rss&id=3#top", "https://news.example.com/a/b?id=3"),
        ("http://news.example.com:8080?b=2&a=1&fbclid=zz", "http://news.example.com:8080/?a=1&b=2"),
        ("file:///tmp/x.html", "file:///tmp/x.html"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_content_hash_ignores_whitespace_only_changes() -> None:
    assert content_hash("a  b\n\nc ") == content_hash("a b c")
    assert content_hash("a b c") != content_hash("a b d")


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Storm hits coast - The Coast Times", "The Coast Times", "https://coasttimes.example/a", "Storm hits coast"),
        ("Storm hits coast | CBC News", "CBC", "https://www.cbc.ca/news/a", "Storm hits coast"),
        ("Storm hits coast \u2013 coasttimes.example", None, "https://coasttimes.example/a", "Storm hits coast"),
        ("Kiptoo wins - again", "Demo Post", "https://demo.example/a", "Kiptoo wins - again"),
        ("CBC News", "CBC", "https://www.cbc.ca/", "CBC News"),  # never the whole title
        (None, "CBC", "https://www.cbc.ca/", None),
    ],
)
def test_site_name_is_stripped_from_titles(title: str | None, site: str | None, url: str,
                                           expected: str | None) -> None:
    from broadsheet.tasks.extract.article import strip_site_name

    assert strip_site_name(title, site, url) == expected


def test_published_time_keeps_its_offset(settings: Settings) -> None:
    late = HTML.replace("2026-03-02T08:30:00+00:00", "2026-03-02T23:30:00-05:00")
    assert extract_article(page(late), settings.extract).published_at == datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
