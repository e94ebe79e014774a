"""Sitemaps: XML ``urlset`` and ``sitemapindex`` documents, gzipped or not, plain-text lists, and robots.txt.

:func:`parse_sitemap` reads one document (without entity expansion, in any namespace, so a sitemap
with a wrong or missing namespace still counts). Each ``<url>`` becomes a candidate with ``lastmod``
as its ``modified_hint`` (the fetcher skips a page whose lastmod is no newer than the warehouse's
copy), and Google News ``<news:title>`` / ``<news:publication_date>`` as title and date hints.
Google image entries are read but are not articles. A sitemap may also be an RSS or Atom feed.

:func:`crawl_sitemaps` follows indexes breadth first, at most ``discover.max_sitemap_depth`` levels
and ``discover.max_sitemaps`` documents per source, never the same sitemap twice (loops are rejected
as ``sitemap_loop``). Sitemap URLs can also come from a robots.txt's ``Sitemap:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, Discovery, Page, Rejection
from broadsheet.config.settings import DiscoverSettings
from broadsheet.tasks.discover.feeds import iso_date, parse_feed_page, plain_text
from broadsheet.tasks.discover.safexml import local_name, parse_xml, strip_leading
from broadsheet.tasks.fetch import FetchOutcome, gunzip_capped, is_url, sitemap_lines

FEED_ROOTS = ("rss", "feed", "rdf")


@dataclass(frozen=True)
class SitemapUrl:
    """One ``<url>`` of a urlset (or a line of a text sitemap)."""

    url: str
    lastmod: datetime | None = None
    title: str | None = None
    published: datetime | None = None
    images: tuple[str, ...] = ()


@dataclass
class Sitemap:
    """One parsed sitemap document."""

    kind: Literal["urlset", "index", "text", "feed"]
    urls: list[SitemapUrl] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # locations that are not http(s) URLs


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if local_name(c) == name), None)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _resolve(base_url: str, location: str) -> str:
    try:
        return urljoin(base_url, location) if base_url.startswith("http") else location
    except ValueError:
        return location


def _url_entry(element: Element, base_url: str) -> SitemapUrl:
    news = _child(element, "news")
    images = tuple(_text(_child(image, "loc")) for image in element if local_name(image) == "image")
    return SitemapUrl(
        url=_resolve(base_url, _text(_child(element, "loc"))),
        lastmod=iso_date(_text(_child(element, "lastmod")) or None),
        title=plain_text(_text(_child(news, "title"))) if news is not None else None,
        published=iso_date(_text(_child(news, "publication_date")) or None) if news is not None else None,
        images=tuple(i for i in images if i),
    )


def _from_xml(root: Element, base_url: str) -> Sitemap:
    kind = local_name(root)
    if kind == "urlset":
        found = Sitemap("urlset")
        for entry in (_url_entry(e, base_url) for e in root if local_name(e) == "url"):
            (found.urls.append(entry) if is_url(entry.url) else found.invalid.append(entry.url))
        return found
    if kind == "sitemapindex":
        found = Sitemap("index")
        for element in root:
            if local_name(element) == "sitemap":
                location = _resolve(base_url, _text(_child(element, "loc")))
                (found.sitemaps.append(location) if is_url(location) else found.invalid.append(location))
        return found
    if kind in FEED_ROOTS:
        return Sitemap("feed")
    raise FetchError(f"its root element is <{kind}>, not <urlset> or <sitemapindex>", code="bad_sitemap")


def _from_text(content: bytes) -> Sitemap:
    found = Sitemap("text")
    for line in content.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            (found.urls.append(SitemapUrl(line)) if is_url(line) else found.invalid.append(line))
    if not found.urls:
        raise FetchError("it is neither XML nor a text file of http(s) URLs", code="bad_sitemap")
    return found


def parse_sitemap(content: bytes, base_url: str, max_bytes: int) -> Sitemap:
    """One sitemap document (gzip is undone, capped at ``max_bytes``); FetchError ``bad_sitemap``."""
    if content[:2] == b"\x1f\x8b":
        content = gunzip_capped(content, max_bytes, base_url)
    body = strip_leading(content)
    if body[:1] != b"<" and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _from_text(body)
    try:
        root = parse_xml(content)
    except ValueError as exc:
        raise FetchError(str(exc), code="bad_sitemap") from exc
    return _from_xml(root, base_url)


def sitemap_discovery(page: Page, sitemap: Sitemap) -> Discovery:
    """The candidates and rejections of one parsed urlset or text sitemap."""
    found = Discovery()
    for entry in sitemap.urls:
        found.candidates.append(Candidate(entry.url, page.source, entry.title, entry.published, entry.lastmod))
    found.rejections += [Rejection("discover", location[:2000] or page.final_url, page.source, "invalid_url",
                                   f"sitemap {page.final_url} lists {location[:300]!r}, not an http(s) URL")
                         for location in sitemap.invalid]
    return found


def read_sitemap_page(page: Page, max_bytes: int) -> tuple[Discovery, list[str]]:
    """A fetched sitemap's candidates and rejections, and the child sitemaps it lists."""
    try:
        sitemap = parse_sitemap(page.content, page.final_url, max_bytes)
    except FetchError as exc:
        message = f"{page.final_url} is not a readable sitemap: {exc.message}"
        return Discovery(rejections=[Rejection("discover", page.url, page.source, exc.code, message)]), []
    if sitemap.kind == "feed":
        return parse_feed_page(page), []
    found = sitemap_discovery(page, sitemap)
    return found, sitemap.sitemaps


def robots_sitemaps(page: Page) -> list[str]:
    """The ``Sitemap:`` URLs of a fetched robots.txt."""
    return list(sitemap_lines(page.content.decode("utf-8", errors="replace"), page.final_url))


Fetch = Callable[[list[Candidate]], FetchOutcome]


def crawl_sitemaps(roots: list[str], source: str, fetch: Fetch, settings: DiscoverSettings,
                   max_bytes: int, changed: Callable[[Page], bool] = lambda _page: True, *,
                   parent: str | None = None) -> Discovery:
    """Every URL of the sitemaps at ``roots`` and of the indexes they lead to, within the bounds.

    ``changed`` tells whether a fetched sitemap differs from the last run's; one that does not is
    counted as unchanged and neither its URLs nor its children are read again. ``parent`` is the
    index that listed ``roots`` when it was read already: it is depth 0 and one of the sitemaps.
    """
    found = Discovery()
    if parent is None:
        seen, level, depth, budget = set(roots), list(dict.fromkeys(roots)), 0, settings.max_sitemaps
    else:
        seen, budget = {parent}, settings.max_sitemaps - 1
        level, depth = _next_level(roots, seen, 0, source, settings, found)
    while level:
        if len(level) > budget:
            found.rejections += [_bound(url, source, f"more than discover.max_sitemaps={settings.max_sitemaps} "
                                                     "sitemaps in this source") for url in level[budget:]]
            level = level[:budget]
        budget -= len(level)
        outcome = fetch([Candidate(url, source) for url in level])
        found.fetches += outcome.fetches
        found.rejections += [Rejection("discover", r.url, r.source, r.error_type, r.message, r.transient)
                             for r in outcome.rejections]
        found.unchanged += [n.candidate.url for n in outcome.not_modified]
        children: list[str] = []
        for page in outcome.pages:
            if not changed(page):
                found.unchanged.append(page.url)
                continue
            items, listed = read_sitemap_page(page, max_bytes)
            found.extend(items)
            children += listed
        level, depth = _next_level(children, seen, depth, source, settings, found)
    return found


def _next_level(children: list[str], seen: set[str], depth: int, source: str, settings: DiscoverSettings,
                found: Discovery) -> tuple[list[str], int]:
    fresh: list[str] = []
    for url in children:
        if url in seen:
            found.rejections.append(Rejection("discover", url, source, "sitemap_loop",
                                              f"sitemap {url} is listed again (an index loop); it is read once"))
        elif depth + 1 > settings.max_sitemap_depth:
            found.rejections.append(_bound(url, source, f"deeper than discover.max_sitemap_depth="
                                                        f"{settings.max_sitemap_depth}"))
        else:
            seen.add(url)
            fresh.append(url)
    return fresh, depth + 1


def _bound(url: str, source: str, why: str) -> Rejection:
    return Rejection("discover", url, source, "sitemap_limit", f"sitemap {url} is not read: {why}")
