"""Extract an article from a page: main text and metadata with trafilatura, language with py3langid
(:mod:`broadsheet.tasks.extract.language`).

A page without usable text is an :class:`ExtractError` (code ``no_text``) and so a rejection,
never an empty article. Plain-text files (``.txt``) are read as headline on the first line and
body after it. Feed hints (title, date) fill what the page itself does not say.

Every field that reaches the models and the warehouse is bounded (:func:`bounded_fields`): a headline of a
million characters is a page's mistake or an attack, and spaCy refuses texts that long, so it is cut rather
than allowed to fail the batch.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import trafilatura

from broadsheet.config.errors import ExtractError
from broadsheet.config.records import Article, Page, Rejection
from broadsheet.config.settings import ExtractSettings
from broadsheet.tasks.extract.identity import (
    IDENTITY_VERSION,
    article_id,
    content_hash,
    declared_canonical,
    normalize_text,
)
from broadsheet.tasks.extract.language import detect_language, language_fit
from broadsheet.tasks.fetch import decode_html, is_html, unreadable_share

if TYPE_CHECKING:
    from lxml.html import HtmlElement


def extractor_version(settings: ExtractSettings) -> str:
    """What made an article: trafilatura's release, the identity rules and the extraction settings.

    Recorded in ``articles.extractor``; ``broadsheet reextract`` redoes the articles made by another.
    """
    # min_text_chars only decides what is rejected, never what an article says
    digest = hashlib.sha256(settings.model_dump_json(exclude={"min_text_chars"}).encode()).hexdigest()[:8]
    return f"trafilatura@{version('trafilatura')}+identity{IDENTITY_VERSION}+settings-{digest}"


# With the time and offset when the page gives them, so a late-evening story keeps its UTC day.
_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|&|\|)\s*")
# No headline, byline or site name is longer; a longer one is cut (at a space where there is one).
MAX_TITLE_CHARS = 1_000
MAX_AUTHORS = 20
MAX_NAME_CHARS = 200
# No real attribute is longer. Trafilatura strips tags from meta values with a pattern whose time is
# quadratic in a value's unclosed "<" (one 1 MB author tag held a worker for more than five minutes), so
# values are cut, and their tags and stray "<" removed in linear time, before it reads them.
MAX_ATTRIBUTE_CHARS = 10_000
_TAG_IN_VALUE = re.compile(r"<[^<>]*>")
# Above this share of unreadable characters a text is binary bytes (random bytes read as UTF-8: about 60%).
UNREADABLE_SHARE = 0.05


def extract_article(page: Page, settings: ExtractSettings) -> Article:
    """The article in ``page``; raises ExtractError when there is none."""
    if is_html(page.content_type):
        fields = _from_html(page, settings)
    elif page.content_type == "text/plain":
        fields = _from_text(page)
    else:
        raise ExtractError(f"{page.url} is {page.content_type}; only HTML and text are extracted",
                           code="not_html")
    fields = bounded_fields(fields, settings.max_text_chars)
    text = fields["text"]
    if len(text) < settings.min_text_chars:
        raise ExtractError(
            f"{page.url} has no article text ({len(text)} characters extracted, "
            f"extract.min_text_chars={settings.min_text_chars}); is it an index, paywall or script page?",
            code="no_text",
        )
    if (share := unreadable_share(text)) > UNREADABLE_SHARE:
        raise ExtractError(f"{page.url} is not text: {share:.0%} of the {len(text)} characters extracted are "
                           "control characters or undecodable bytes; is it a binary file served as HTML?",
                           code="no_text")
    canonical = declared_canonical(page.final_url, fields.get("canonical"))  # rel=canonical, when trusted
    text_hash = content_hash(text)
    return Article(
        article_id=article_id(canonical, text_hash),
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        title=fields["title"] or cut(page.title_hint, MAX_TITLE_CHARS),
        authors=fields["authors"],
        published_at=fields["published_at"] or page.published_hint,
        language=detect_language(text, settings.candidate_languages, settings.min_language_confidence),
        site=fields["site"],
        text=text,
        content_hash=text_hash,
        fetched_at=page.fetched_at,
        extractor=extractor_version(settings),
        page_id=page.page_id,
    )


def bounded_fields(fields: dict, max_text_chars: int) -> dict:
    """``fields`` with the title, authors, site and text cut to what a model or the warehouse takes."""
    authors = tuple(name for name in (cut(a, MAX_NAME_CHARS) for a in fields["authors"][:MAX_AUTHORS]) if name)
    return {**fields, "title": cut(fields["title"], MAX_TITLE_CHARS), "authors": authors,
            "site": cut(fields["site"], MAX_NAME_CHARS), "text": cut(fields["text"], max_text_chars) or ""}


def cut(value: str | None, limit: int) -> str | None:
    """``value`` at most ``limit`` characters long, cut at its last space before the limit when it has one."""
    if value is None or len(value) <= limit:
        return value
    head = value[:limit]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip() or None


def extract_articles(pages: list[Page], settings: ExtractSettings) -> tuple[list[Article], list[Rejection]]:
    articles: list[Article] = []
    rejections: list[Rejection] = []
    for page in pages:
        try:
            articles.append(extract_article(page, settings))
        except ExtractError as exc:
            rejections.append(Rejection.from_error("extract", page.url, page.source, exc))
    return articles, rejections


def bounded_tree(html: str) -> HtmlElement | None:
    """``html`` parsed, with every attribute value cut to MAX_ATTRIBUTE_CHARS and without tags or a stray "<"."""
    tree = trafilatura.load_html(html)
    for element in tree.iter() if tree is not None else ():
        for name, value in element.attrib.items():
            if len(value) > MAX_ATTRIBUTE_CHARS or "<" in value:
                element.set(name, _TAG_IN_VALUE.sub("", value[:MAX_ATTRIBUTE_CHARS]).replace("<", ""))
    return tree


def _from_html(page: Page, settings: ExtractSettings) -> dict:
    html = decode_html(page.content, page.charset,  # the page's own bytes, decoded whatever they claim
                       judge=partial(language_fit, candidates=tuple(settings.candidate_languages)))
    tree = bounded_tree(html)
    if tree is None:
        return {"text": "", "title": None, "authors": (), "published_at": None, "site": None}
    document = trafilatura.bare_extraction(
        tree,
        url=page.final_url if page.final_url.startswith("http") else None,
        favor_precision=settings.favor_precision,
        include_comments=False,
        include_tables=settings.include_tables,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if document is None or isinstance(document, dict):  # None: nothing found (dict only with as_dict=True)
        return {"text": "", "title": None, "authors": (), "published_at": None, "site": None}
    site = _clean(document.sitename) or _hostname(page.final_url)
    title = strip_site_name(_clean(document.title), site, page.final_url)
    return {
        "text": drop_leading_title((document.text or "").strip(), title),
        "title": title,
        "authors": split_authors(document.author),
        "published_at": parse_date(document.date),
        "site": site,
        "canonical": document.url,
    }


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _site_names(site: str | None, url: str) -> set[str]:
    """Forms a site's name takes in a title suffix: its name, and its host without www. and TLD."""
    names = {_squash(site)} if site else set()
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if host:
        names |= {_squash(host), _squash(host.rsplit(".", 1)[0])}
    return {name for name in names if len(name) >= 3}


def strip_site_name(title: str | None, site: str | None, url: str) -> str | None:
    """The headline without the site's name that pages append ("Storm hits coast - The Coast Times").

    Only a trailing segment after a separator (a dash of any width, "|", "::", a middle dot) whose letters
    match the site's name or host is removed, repeatedly ("Story - National | Global"), and never the
    whole title; a headline that merely contains a dash is left alone.
    """
    names = _site_names(site, url)
    while title and names:
        head, tail = _split_last(title)
        squashed = _squash(tail)
        if not head.strip() or not squashed or len(tail.split()) > 6:
            break
        if not any(squashed in name or name in squashed for name in names):
            break
        title = head.strip()
    return title


_TITLE_SEPARATOR = re.compile(r"\s+(?:[-|\u2013\u2014\u00b7:]{1,2})\s+")


def _split_last(title: str) -> tuple[str, str]:
    """The title before and after its last separator ("", "") when it has none."""
    matches = list(_TITLE_SEPARATOR.finditer(title))
    if not matches:
        return "", ""
    return title[:matches[-1].start()], title[matches[-1].end():]


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


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _hostname(url: str) -> str | None:
    return urlsplit(url).hostname if url.startswith("http") else None
