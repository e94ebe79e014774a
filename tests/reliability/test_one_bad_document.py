"""One bad document never stops the run: huge fields are cut, and a stage that raises on one document
rejects that document alone (issue 26, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from broadsheet.config.records import Article, Page
from broadsheet.config.settings import Settings
from broadsheet.tasks import workers
from broadsheet.tasks.enrich.entities import analyse_articles
from broadsheet.tasks.extract.article import MAX_AUTHORS, MAX_NAME_CHARS, MAX_TITLE_CHARS, extract_article

NOW = datetime(2026, 12, 3, tzinfo=UTC)
BODY = "The harbour plan was approved by the city council on Monday after a long debate. " * 4


def text_page(name: str, content: str) -> Page:
    return Page(f"file:///news/{name}.txt", f"file:///news/{name}.txt", "folder", content.encode(), "text/plain", NOW)


def alone(settings: Settings) -> Settings:
    return settings.model_copy(update={"pipeline": settings.pipeline.model_copy(update={"workers": 1})})


def test_a_headline_of_a_million_characters_is_cut(settings: Settings) -> None:
    headline = " ".join(f"word{i % 100}" for i in range(240_000))  # the reproduction: 1.6 M characters on line 1
    article = extract_article(text_page("huge", f"{headline}\n{BODY}"), settings.extract)
    assert article.title is not None and 0 < len(article.title) <= MAX_TITLE_CHARS
    assert headline.startswith(article.title) and not article.title.endswith(" ")


def test_huge_bylines_site_names_and_bodies_are_cut(settings: Settings) -> None:
    authors = " and ".join(f"Author {'x' * 500} {i}" for i in range(100))
    html = (f"<html><head><title>Headline</title><meta name='author' content='{authors}'>"
            f"<meta property='og:site_name' content='{'S' * 5_000}'></head>"
            f"<body><article><h1>Headline</h1><p>{BODY * 200}</p></article></body></html>")
    page = Page("https://n.example/a", "https://n.example/a", "p", html.encode(), "text/html", NOW)
    small = settings.extract.model_copy(update={"max_text_chars": 10_000})
    article = extract_article(page, small)
    assert 0 < len(article.authors) <= MAX_AUTHORS and all(len(a) <= MAX_NAME_CHARS for a in article.authors)
    assert article.site is not None and len(article.site) <= MAX_NAME_CHARS
    assert 0 < len(article.text) <= 10_000


def test_spacy_tags_an_article_whose_stored_title_is_longer_than_it_takes(settings: Settings) -> None:
    """An article stored before titles were cut (``broadsheet reenrich`` reads it) still enriches:
    spaCy refuses texts over a million characters (E088)."""
    title = "Storm hits Lisbon harbour " * 50_000
    article = Article("a1", "https://n.example/a", "https://n.example/a", "p", title, (), NOW, "en", None, BODY, "h",
                      NOW, "test")
    spacy = settings.entities.model_copy(update={"model": "spacy", "max_chars": 1_000})
    [((_, mentions, _), _)] = analyse_articles([article], spacy)  # used to raise E088
    assert all(m.end_char <= 1_000 for m in mentions if m.in_title)


def _raise_on_bad(pages: list[Page], *args: object) -> tuple[list, list]:
    if any("bad" in page.url for page in pages):
        raise RecursionError("maximum recursion depth exceeded")  # what a library's bug looks like
    return [p.url for p in pages], []


def test_an_exception_in_extraction_rejects_only_its_document(settings: Settings,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("broadsheet.tasks.extract.extract_articles", _raise_on_bad)  # as the job finds it
    pages = [text_page(name, BODY) for name in ("one", "bad", "two", "three")]
    articles, rejections = workers.extract_pages(pages, alone(settings))
    assert articles == ["file:///news/one.txt", "file:///news/two.txt", "file:///news/three.txt"]
    [rejection] = rejections
    assert (rejection.stage, rejection.url, rejection.error_type) == ("extract", "file:///news/bad.txt",
                                                                      "extract_failed")
    assert "RecursionError" in rejection.message and "report it" in rejection.message


def test_an_exception_in_enrichment_rejects_only_its_article(settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def enrich_or_raise(articles: list[Article], _: Settings) -> list[str]:
        if any(a.title == "bad" for a in articles):
            raise ValueError("[E088] Text of length 1600000 exceeds maximum of 1000000")
        return [a.article_id for a in articles]

    monkeypatch.setattr("broadsheet.tasks.enrich.enrich_articles", enrich_or_raise)  # as the job finds it
    articles = [Article(title, f"https://n.example/{title}", f"https://n.example/{title}", "p", title, (), NOW, "en",
                        None, BODY, "h", NOW, "test") for title in ("a", "b", "bad", "c")]
    enriched, enrichments, rejections = workers.enrich(articles, alone(settings))
    assert [a.article_id for a in enriched] == enrichments == ["a", "b", "c"]
    assert [(r.stage, r.url, r.error_type) for r in rejections] == [("enrich", "https://n.example/bad",
                                                                     "enrich_failed")]


huge_text = st.builds(lambda unit, repeat: unit * repeat,
                      st.text(st.characters(min_codepoint=1, max_codepoint=0x10FFFF, exclude_categories=("Cs",)),
                              min_size=1, max_size=12),
                      st.integers(1, 300_000))


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.function_scoped_fixture])
@given(title=huge_text, body=huge_text, author=huge_text, as_html=st.booleans())
def test_random_huge_fields_become_a_bounded_article_or_a_rejection(settings: Settings, title: str, body: str,
                                                                     author: str, as_html: bool) -> None:
    if as_html:
        escaped = [v.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&#39;") for v in (title, body, author)]
        content = (f"<html><head><title>{escaped[0]}</title><meta name='author' content='{escaped[2]}'></head>"
                   f"<body><article><p>{escaped[1]}</p></article></body></html>")
        page = Page("https://n.example/a", "https://n.example/a", "p", content.encode(), "text/html", NOW)
    else:
        page = text_page("t", f"{title}\n{body}")
    bounded = settings.extract.model_copy(update={"max_text_chars": 50_000})
    small = settings.model_copy(update={"extract": bounded, "pipeline": settings.pipeline.model_copy(
        update={"workers": 1})})
    articles, rejections = workers.extract_pages([page], small)
    assert len(articles) + len(rejections) == 1
    for article in articles:
        assert len(article.title or "") <= MAX_TITLE_CHARS and len(article.text) <= 50_000
        assert len(article.authors) <= MAX_AUTHORS and all(len(a) <= MAX_NAME_CHARS for a in article.authors)
    for rejection in rejections:
        assert rejection.error_type == "no_text"
