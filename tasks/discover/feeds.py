"""Feeds: the items of RSS 0.9x/1.0/2.0, Atom and JSON Feed documents, with their titles and dates as hints.

feedparser reads the XML kinds, sloppy ones included (undeclared entities, wrong encodings, relative
links resolved against the feed's URL and ``xml:base``); leading whitespace before the XML declaration
is removed first. A document that declares XML entities is refused as ``bad_feed`` before feedparser
sees it (:mod:`~broadsheet.tasks.discover.safexml`): the check reads the document as feedparser will, once
feedparser's own encoding detection has turned it into UTF-8 (UTF-32 without a byte order mark and EBCDIC
used to slip past it), and feedparser is then given exactly the bytes that were checked. Item links must be
http(s): a remote feed cannot point the fetcher at ``file:`` URLs. Each item without a usable link is one
rejection; the others go on.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.encodings import convert_to_utf8

from broadsheet.config.records import Candidate, Discovery, Page, Rejection
from broadsheet.tasks.discover.safexml import entity_problem, strip_leading
from broadsheet.tasks.fetch import is_url

_TAG = re.compile(r"<[^>]*>")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # an earlier date in a feed or sitemap is junk, not a hint


def _bad_feed(page: Page, reason: object) -> Discovery:
    return Discovery(rejections=[Rejection("discover", page.url, page.source, "bad_feed",
                                           f"{page.final_url} is not a readable feed: {reason}")])


def as_feedparser_reads(content: bytes, headers: dict[str, str]) -> tuple[bytes, object]:
    """``content`` in UTF-8 as feedparser decodes it (the XML spec's detection from the first bytes, the
    declared encoding, the HTTP charset), and what was wrong with its encoding (None if nothing); unchanged
    when feedparser cannot decode it either."""
    result: dict[str, Any] = {}
    try:
        converted = bytes(convert_to_utf8(dict(headers), content, result))
    except (LookupError, ValueError, TypeError) as exc:
        return content, exc
    return converted, result.get("bozo_exception") if result.get("bozo") else None


def is_json_feed(page: Page) -> bool:
    return page.content_type in ("application/feed+json", "application/json") or \
        strip_leading(page.content)[:1] == b"{"


def parse_feed_page(page: Page) -> Discovery:
    """The items of an RSS, Atom or JSON feed, with their titles and dates as hints."""
    if is_json_feed(page):
        return _parse_json_feed(page)
    headers = {"content-location": page.final_url, "content-type": page.content_type or "application/xml"}
    content, encoding_problem = as_feedparser_reads(strip_leading(page.content), headers)
    problem = entity_problem(page.content) or entity_problem(content)
    if problem:
        return _bad_feed(page, problem)
    parsed = feedparser.parse(content, response_headers=headers)
    if not parsed.entries and (encoding_problem or parsed.get("bozo") or not parsed.get("version")):
        return _bad_feed(page, encoding_problem or getattr(parsed, "bozo_exception", None)
                         or "no RSS, Atom or RDF root element")
    found = Discovery()
    for entry in parsed.entries:
        add_item(found, page, entry.get("link") or _guid_link(entry), entry.get("title"), _entry_date(entry))
    return found


def add_item(found: Discovery, page: Page, link: object, title: object, published: datetime | None) -> None:
    """A feed item's candidate, or a rejection when its link is missing or not an http(s) URL."""
    if not isinstance(link, str) or not link.strip():
        found.rejections.append(Rejection("discover", page.final_url, page.source, "no_link",
                                          f"feed item {plain_text(title)!r} has no link"))
        return
    try:
        url = urljoin(page.final_url, link.strip())
    except ValueError:
        url = link.strip()
    if not is_url(url):  # never file:, ftp: or malformed links, which a remote feed could abuse
        found.rejections.append(Rejection("discover", url[:2000], page.source, "invalid_url",
                                          f"feed item link {url[:300]!r} is not an http(s) URL"))
        return
    found.candidates.append(Candidate(url, page.source, plain_text(title), published))


def _guid_link(entry: Any) -> str | None:
    guid = entry.get("id")
    return guid if isinstance(guid, str) and is_url(guid) else None


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return plausible(datetime.fromtimestamp(calendar.timegm(value), UTC))
            except (ValueError, OverflowError, OSError):  # outside the calendar: keep the item, drop the date
                return None
    return None


def plausible(value: datetime | None) -> datetime | None:
    """``value`` unless it is before 1900: feedparser reads junk such as "1772532000" as 1 Nov 1772."""
    return value if value is not None and value >= EARLIEST else None


def plain_text(value: object) -> str | None:
    """A feed title as plain text: markup removed, entities decoded, whitespace collapsed."""
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(_TAG.sub(" ", value)).split())
    return text or None


def _parse_json_feed(page: Page) -> Discovery:
    try:
        data = json.loads(page.content)
        items = data["items"]
        if not isinstance(items, list):
            raise TypeError("items is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        return Discovery(rejections=[Rejection("discover", page.url, page.source, "bad_feed",
                                               f"{page.final_url} is not a readable JSON Feed: {exc}")])
    found = Discovery()
    for item in items:
        item = item if isinstance(item, dict) else {}
        add_item(found, page, item.get("url") or item.get("external_url"), item.get("title"),
                 iso_date(item.get("date_published")))
    return found


def iso_date(value: object) -> datetime | None:
    """An ISO 8601 / W3C datetime (a bare date is midnight UTC) in UTC; None when absent or junk."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return plausible(parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return None
