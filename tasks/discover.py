"""Discover candidate documents from sources: feeds, single pages, URL-list files and folders.

A source's kind is given or recognised (``auto``): a folder, a local feed file, a local file of
URLs, a local document, or a URL, which is fetched once and is either a feed (its items become
candidates) or a page (which goes on as it is, without a second request).
"""

from __future__ import annotations

import calendar
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from broadsheet.config.errors import FetchError
from broadsheet.config.settings import HttpSettings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.fetch import (
    fetch_pages,
    file_url,
    is_feed,
    is_html,
    parse_http_url,
    read_local,
)
from broadsheet.tasks.records import Candidate, FetchRecord, Page, Rejection

DOCUMENT_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz", ".txt")
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json", ".xml.gz")
_TAG = re.compile(r"<[^>]*>")


@dataclass
class Discovery:
    """What discovery found: candidates to fetch, pages already fetched, and failures."""

    candidates: list[Candidate] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def extend(self, other: Discovery) -> None:
        self.candidates += other.candidates
        self.pages += other.pages
        self.fetches += other.fetches
        self.rejections += other.rejections


def is_url(location: str) -> bool:
    """Whether ``location`` is a well-formed http(s) URL."""
    try:
        parse_http_url(location)
    except FetchError:
        return False
    return True


def discover_source(source: SourceConfig, settings: HttpSettings) -> Discovery:
    """Candidates of one source; a source that cannot be read becomes one rejection."""
    try:
        return _discover(source, settings)
    except FetchError as exc:
        return Discovery(rejections=[Rejection.from_error("discover", source.location, source.name, exc)])


def _discover(source: SourceConfig, settings: HttpSettings) -> Discovery:
    location, kind = source.location, source.kind
    if is_url(location):
        if kind == "page":
            return Discovery(candidates=[Candidate(location, source.name)])
        return _discover_remote(source, settings)
    path = Path(location).expanduser()
    if not path.exists():
        raise FetchError(f"{location} is neither an http(s) URL nor an existing file or folder",
                         code="unreadable_file")
    if kind == "folder" or (kind == "auto" and path.is_dir()):
        return discover_folder(path, source.name)
    if kind == "urls" or (kind == "auto" and _looks_like_url_list(path)):
        return discover_url_list(path, source.name)
    candidate = Candidate(file_url(path), source.name)
    if kind == "feed" or (kind == "auto" and path.name.lower().endswith(FEED_SUFFIXES)):
        page = read_local(candidate, settings.max_body_bytes)
        return parse_feed_page(page)
    return Discovery(candidates=[candidate])


def _discover_remote(source: SourceConfig, settings: HttpSettings) -> Discovery:
    outcome = fetch_pages([Candidate(source.location, source.name)], settings)
    found = Discovery(fetches=outcome.fetches,
                      rejections=[_as_discovery(r) for r in outcome.rejections])
    for page in outcome.pages:
        if source.kind == "feed" or (source.kind == "auto" and is_feed(page.content_type)):
            found.extend(parse_feed_page(page))
        elif is_html(page.content_type) or source.kind == "auto":
            found.pages.append(page)
        else:
            found.rejections.append(Rejection("discover", page.url, source.name, "bad_feed",
                                              f"{page.final_url} is {page.content_type}, not a feed"))
    return found


def _as_discovery(rejection: Rejection) -> Rejection:
    return Rejection("discover", rejection.url, rejection.source, rejection.error_type,
                     rejection.message, rejection.transient)


def discover_folder(folder: Path, source: str) -> Discovery:
    """Every document file under ``folder``, in path order; other files are rejected by name.

    Hidden files and folders (a name starting with ".") are skipped, as editors and VCS keep them.
    """
    found = Discovery()
    visible = (p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for path in sorted(p for p in visible if p.is_file()):
        name = path.name.lower()
        if name.endswith(DOCUMENT_SUFFIXES):
            found.candidates.append(Candidate(file_url(path), source))
        else:
            found.rejections.append(Rejection(
                "discover", file_url(path), source, "unsupported_file",
                f"{path.name} is not a document broadsheet reads (.html, .htm, .html.gz, .txt)"))
    return found


def _url_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from exc
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def _looks_like_url_list(path: Path) -> bool:
    if not path.is_file() or not path.name.lower().endswith((".txt", ".urls", ".lst", ".list")):
        return False
    with path.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace")
    lines = [ln.strip() for ln in head.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return bool(lines) and all(is_url(ln) for ln in lines[:20])


def discover_url_list(path: Path, source: str) -> Discovery:
    """One candidate per URL line of a text file; ``#`` starts a comment; bad lines are rejected."""
    found = Discovery()
    for number, line in _url_lines(path):
        if " " not in line and is_url(line):
            found.candidates.append(Candidate(line, source))
        else:
            found.rejections.append(Rejection("discover", line[:2000], source, "invalid_url",
                                              f"line {number} of {path} is not an http(s) URL"))
    return found


def parse_feed_page(page: Page) -> Discovery:
    """The items of an RSS, Atom or JSON feed, with their titles and dates as hints."""
    if page.content_type in ("application/feed+json", "application/json") or page.content[:1] == b"{":
        return _parse_json_feed(page)
    parsed = feedparser.parse(page.content, response_headers={"content-location": page.final_url})
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = getattr(parsed, "bozo_exception", None) or "no RSS, Atom or RDF root element"
        return Discovery(rejections=[Rejection("discover", page.url, page.source, "bad_feed",
                                               f"{page.final_url} is not a readable feed: {reason}")])
    found = Discovery()
    for entry in parsed.entries:
        _add_item(found, page, entry.get("link") or _guid_link(entry), entry.get("title"), _entry_date(entry))
    return found


def _add_item(found: Discovery, page: Page, link: object, title: object, published: datetime | None) -> None:
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
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (ValueError, OverflowError, OSError):  # outside the calendar: keep the item, drop the date
                return None
    return None


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
        _add_item(found, page, item.get("url") or item.get("external_url"), item.get("title"),
                  _iso_date(item.get("date_published")))
    return found


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
