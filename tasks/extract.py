"""Extract an article from a page: main text and metadata with trafilatura, language with py3langid.

A page without usable text is an :class:`ExtractError` (code ``no_text``) and so a rejection,
never an empty article. Plain-text files (``.txt``) are read as headline on the first line and
body after it. Feed hints (title, date) fill what the page itself does not say.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.metadata import version
from urllib.parse import urlsplit

import py3langid
import trafilatura

from broadsheet.config.errors import ExtractError
from broadsheet.config.settings import ExtractSettings
from broadsheet.tasks.charset import decode_html
from broadsheet.tasks.dedup import article_id, content_hash, declared_canonical, normalize_text
from broadsheet.tasks.fetch import is_html
from broadsheet.tasks.records import Article, Page, Rejection

EXTRACTOR = f"trafilatura@{version('trafilatura')}"
_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%d"}
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|&|\|)\s*")


def extract_article(page: Page, settings: ExtractSettings) -> Article:
    """The article in ``page``; raises ExtractError when there is none."""
    if is_html(page.content_type):
        fields = _from_html(page, settings)
    elif page.content_type == "text/plain":
        fields = _from_text(page)
    else:
        raise ExtractError(f"{page.url} is {page.content_type}; only HTML and text are extracted",
                           code="not_html")
    text = fields["text"]
    if len(text) < settings.min_text_chars:
        raise ExtractError(
            f"{page.url} has no article text ({len(text)} characters extracted, "
            f"extract.min_text_chars={settings.min_text_chars}); is it an index, paywall or script page?",
            code="no_text",
        )
    canonical = declared_canonical(page.final_url, fields.get("canonical"))  # rel=canonical, when trusted
    text_hash = content_hash(text)
    return Article(
        article_id=article_id(canonical, text_hash),
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        title=fields["title"] or page.title_hint,
        authors=fields["authors"],
        published_at=fields["published_at"] or page.published_hint,
        language=detect_language(text),
        site=fields["site"],
        text=text,
        content_hash=text_hash,
        fetched_at=page.fetched_at,
        extractor=EXTRACTOR,
        page_id=page.page_id,
    )


def extract_articles(pages: list[Page], settings: ExtractSettings) -> tuple[list[Article], list[Rejection]]:
    articles: list[Article] = []
    rejections: list[Rejection] = []
    for page in pages:
        try:
            articles.append(extract_article(page, settings))
        except ExtractError as exc:
            rejections.append(Rejection.from_error("extract", page.url, page.source, exc))
    return articles, rejections


def _from_html(page: Page, settings: ExtractSettings) -> dict:
    document = trafilatura.bare_extraction(
        decode_html(page.content, page.charset),  # the page's own bytes, decoded whatever they claim
        url=page.final_url if page.final_url.startswith("http") else None,
        favor_precision=settings.favor_precision,
        include_comments=False,
        include_tables=settings.include_tables,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if document is None or isinstance(document, dict):  # None: nothing found (dict only with as_dict=True)
        return {"text": "", "title": None, "authors": (), "published_at": None, "site": None}
    title = _clean(document.title)
    return {
        "text": drop_leading_title((document.text or "").strip(), title),
        "title": title,
        "authors": split_authors(document.author),
        "published_at": parse_date(document.date),
        "site": _clean(document.sitename) or _hostname(page.final_url),
        "canonical": document.url,
    }


def drop_leading_title(text: str, title: str | None) -> str:
    """The body without a first line that only repeats the headline (trafilatura keeps the h1)."""
    first, _, rest = text.partition("\n")
    if title and normalize_text(first) == normalize_text(title):
        return rest.strip()
    return text


def _from_text(page: Page) -> dict:
    text = page.content.decode("utf-8", errors="replace") if _is_utf8(page.content) \
        else page.content.decode("latin-1")
    lines = text.replace("\r\n", "\n").strip().split("\n", 1)
    title, body = (lines[0].strip(), lines[1].strip()) if len(lines) == 2 else (None, lines[0].strip())
    return {"text": body, "title": title or None, "authors": (), "published_at": None, "site": None}


def _is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def split_authors(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    names = (name.strip(" ,") for name in _AUTHOR_SPLIT.split(value))
    return tuple(dict.fromkeys(name for name in names if name))


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, from its first few thousand characters."""
    sample = text[:3000]
    if len(sample.strip()) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return str(code)


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _hostname(url: str) -> str | None:
    return urlsplit(url).hostname if url.startswith("http") else None
