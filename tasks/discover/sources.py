"""Discover candidate documents from sources: feeds, sitemaps, WARC files, pages, URL lists and folders.

A source's kind is given or recognised (``auto``). Local: a folder (documents and WARC files in it),
a WARC/ARC file, a sitemap, a feed file, a file of URLs, or a single document. A URL: ``page`` is a
candidate without a request; ``sitemap`` reads the sitemap (or, for a site root or ``/robots.txt``, the
sitemaps robots.txt declares); otherwise the URL is fetched once and is a feed, a sitemap, or a page
that goes on as it is, without a second request.

Remote feeds and sitemaps are fetched with the URL's validators from the warehouse: a 304, or a body
identical to the last run's, marks the source *unchanged* and its items are not read again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, Discovery, Page, Rejection, Validators
from broadsheet.config.settings import DiscoverSettings, HttpSettings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.safexml import strip_leading
from broadsheet.tasks.discover.sitemaps import crawl_sitemaps, read_sitemap_page, robots_sitemaps
from broadsheet.tasks.fetch import (
    FetchOutcome,
    FetchState,
    discover_archive,
    fetch_pages,
    file_url,
    is_archive,
    is_feed,
    is_html,
    is_url,
    read_local,
    read_regular_file,
    robots_url,
)

DOCUMENT_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz", ".txt")
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json", ".xml.gz")
SITEMAP_ROOTS = (b"<urlset", b"<sitemapindex")
URL_LIST_MAX_BYTES = 1_000_000_000  # a million URLs is ~100 MB; past this, a list is more likely a mistake
ValidatorLookup = Callable[[list[str]], Mapping[str, Validators]]

__all__ = ["DiscoverContext", "discover_folder", "discover_source", "discover_url_list"]


def _no_validators(_urls: list[str]) -> Mapping[str, Validators]:
    return {}


@dataclass
class DiscoverContext:
    """What discovery needs besides the source: settings, shared fetch state, the warehouse's validators."""

    http: HttpSettings
    discover: DiscoverSettings = field(default_factory=DiscoverSettings)
    state: FetchState | None = None
    validators: ValidatorLookup = _no_validators
    transport: httpx.AsyncBaseTransport | None = None

    def fetch(self, candidates: list[Candidate]) -> FetchOutcome:
        return fetch_pages(candidates, self.http, self.transport,
                           validators=self.validators([c.url for c in candidates]), state=self.state)

    def changed(self, page: Page) -> bool:
        """False when ``page`` has the very body the warehouse recorded for its URL last time."""
        known = self.validators([page.url]).get(page.url)
        return known is None or known.body_sha256 != hashlib.sha256(page.content).hexdigest()


def discover_source(source: SourceConfig, settings: HttpSettings, discover: DiscoverSettings | None = None, *,
                    context: DiscoverContext | None = None) -> Discovery:
    """Candidates of one source; a source that cannot be read becomes one rejection."""
    context = context or DiscoverContext(settings, discover or DiscoverSettings())
    try:
        return _discover(source, context)
    except FetchError as exc:
        return Discovery(rejections=[Rejection.from_error("discover", source.location, source.name, exc)])
    except Exception as exc:  # one source's surprise must not cost the other sources of the run
        return Discovery(rejections=[Rejection("discover", source.location, source.name, "discover_failed",
                                               f"reading {source.location} raised {type(exc).__name__}: "
                                               f"{str(exc)[:300]} (a defect: report it with the source)")])


def _discover(source: SourceConfig, context: DiscoverContext) -> Discovery:
    location, kind = source.location, source.kind
    if is_url(location):
        return _discover_url(source, context)
    path = Path(location).expanduser()
    if not path.exists():
        raise FetchError(f"{location} is neither an http(s) URL nor an existing file or folder",
                         code="unreadable_file")
    if kind == "folder" or (kind == "auto" and path.is_dir()):
        return discover_folder(path, source.name, context.http.timeout_seconds)
    if not path.is_file():
        raise FetchError(f"{location} is not a regular file (a FIFO, socket or device); only files are read",
                         code="unreadable_file")
    if kind == "warc" or (kind == "auto" and is_archive(path)):
        candidates, rejections = discover_archive(path, source.name, context.http.timeout_seconds)
        return Discovery(candidates=candidates, rejections=rejections)
    if kind == "urls" or (kind == "auto" and _looks_like_url_list(path, context.http.timeout_seconds)):
        return discover_url_list(path, source.name, context.http.timeout_seconds)
    candidate = Candidate(file_url(path), source.name)
    if kind in ("feed", "sitemap") or (kind == "auto" and path.name.lower().endswith(FEED_SUFFIXES)):
        page = read_local(candidate, context.http.max_body_bytes, context.http.timeout_seconds)
        if kind == "sitemap" or (kind == "auto" and _is_sitemap(page)):
            return _read_sitemap(page, context)
        return parse_feed_page(page)
    return Discovery(candidates=[candidate])


def _discover_url(source: SourceConfig, context: DiscoverContext) -> Discovery:
    location, kind = source.location, source.kind
    if kind == "page":
        return Discovery(candidates=[Candidate(location, source.name)])
    if kind == "warc":
        raise FetchError(f"{location}: WARC files are read from disk; download it and pass its path",
                         code="unsupported_source")
    if kind == "sitemap" and urlsplit(location).path in ("", "/"):
        location = robots_url(location)  # a site root: the sitemaps its robots.txt declares
    found, pages = _fetch_source(source, location, context)
    for page in pages:
        if urlsplit(page.url).path == "/robots.txt" and kind in ("sitemap", "auto"):
            found.extend(_robots_sitemaps(page, source.name, context))
        elif kind == "sitemap" or (kind == "auto" and _is_sitemap(page)):
            found.extend(_read_sitemap(page, context))
        elif kind == "feed" or (kind == "auto" and is_feed(page.content_type)):
            found.extend(parse_feed_page(page))
        elif is_html(page.content_type) or kind == "auto":
            found.pages.append(page)
        else:
            found.rejections.append(Rejection("discover", page.url, source.name, "bad_feed",
                                              f"{page.final_url} is {page.content_type}, not a feed"))
    return found


def _fetch_source(source: SourceConfig, location: str, context: DiscoverContext) -> tuple[Discovery, list[Page]]:
    """The source document, unless it did not change since the last run (then it counts as unchanged)."""
    outcome = context.fetch([Candidate(location, source.name)])
    found = Discovery(fetches=outcome.fetches, rejections=[_as_discovery(r) for r in outcome.rejections],
                      unchanged=[n.candidate.url for n in outcome.not_modified])
    pages: list[Page] = []
    for page in outcome.pages:
        if source.kind != "page" and not is_html(page.content_type) and not context.changed(page):
            found.unchanged.append(page.url)
        else:
            pages.append(page)
    return found, pages


def _is_sitemap(page: Page) -> bool:
    head = strip_leading(page.content[:2048])
    if head[:2] == b"\x1f\x8b":
        return True
    return any(root in head for root in SITEMAP_ROOTS)


def _read_sitemap(page: Page, context: DiscoverContext) -> Discovery:
    found, children = read_sitemap_page(page, context.http.max_body_bytes)
    if children:
        found.extend(crawl_sitemaps(children, page.source, context.fetch, context.discover,
                                    context.http.max_body_bytes, context.changed, parent=page.final_url))
    return found


def _robots_sitemaps(page: Page, source: str, context: DiscoverContext) -> Discovery:
    roots = robots_sitemaps(page)
    if not roots:
        return Discovery(rejections=[Rejection("discover", page.url, source, "no_sitemap",
                                               f"{page.final_url} declares no Sitemap: lines")])
    return crawl_sitemaps(roots, source, context.fetch, context.discover, context.http.max_body_bytes,
                          context.changed)


def _as_discovery(rejection: Rejection) -> Rejection:
    return Rejection("discover", rejection.url, rejection.source, rejection.error_type,
                     rejection.message, rejection.transient)


def discover_folder(folder: Path, source: str, timeout_seconds: float | None = None) -> Discovery:
    """Every document and WARC/ARC file under ``folder``, in path order; other files are rejected by name.

    Hidden files and folders (a name starting with ".") are skipped, as editors and VCS keep them.
    Symbolic links to folders are not followed; a link to a file outside ``folder`` is rejected
    (``outside_folder``), and so are a broken link, a link loop, and anything but a regular file (a FIFO
    would block the read forever) (``unreadable_file``). A WARC/ARC file is read with ``timeout_seconds``
    (:func:`~broadsheet.tasks.fetch.discover_archive`).
    """
    found = Discovery()
    visible = (p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for path in sorted(p for p in visible if not p.is_dir()):
        escape = _escaping_link(path, folder, source) or _not_a_file(path, source)
        if escape is not None:
            found.rejections.append(escape)
            continue
        name = path.name.lower()
        if name.endswith(DOCUMENT_SUFFIXES):
            found.candidates.append(Candidate(file_url(path), source))
        elif is_archive(path):
            candidates, rejections = discover_archive(path, source, timeout_seconds)
            found.extend(Discovery(candidates=candidates, rejections=rejections))
        else:
            found.rejections.append(Rejection(
                "discover", file_url(path), source, "unsupported_file",
                f"{path.name} is not a document broadsheet reads (.html, .htm, .html.gz, .txt, .warc, .arc)"))
    return found


def _escaping_link(path: Path, folder: Path, source: str) -> Rejection | None:
    """Why the symbolic link ``path`` in ``folder`` is not read (broken, or out of the folder), if it is one."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve()
    except (RuntimeError, OSError) as exc:  # a loop: RuntimeError in Python 3.11, OSError (ELOOP) later
        return Rejection("discover", path.absolute().as_uri(), source, "unreadable_file",
                         f"{path} is a symbolic link that never reaches a file ({exc}); remove it")
    if not target.exists():
        return Rejection("discover", path.absolute().as_uri(), source, "unreadable_file",
                         f"{path} is a broken symbolic link (to {target}); remove it or restore its target")
    if not target.is_relative_to(folder.resolve()):
        return Rejection("discover", path.absolute().as_uri(), source, "outside_folder",
                         f"{path} links to {target}, outside the folder {folder}; only files under the folder "
                         "are read: copy the file in, or ingest its own folder")
    return None


def _not_a_file(path: Path, source: str) -> Rejection | None:
    if path.is_file():
        return None
    return Rejection("discover", path.absolute().as_uri(), source, "unreadable_file",
                     f"{path} is not a regular file (a FIFO, socket or device); only files are read")


def _url_lines(path: Path, timeout_seconds: float | None) -> Iterator[tuple[int, str]]:
    raw = read_regular_file(path, URL_LIST_MAX_BYTES + 1, timeout_seconds)
    if len(raw) > URL_LIST_MAX_BYTES:
        raise FetchError(f"{path} is larger than {URL_LIST_MAX_BYTES:,} bytes: split the list", code="too_large")
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


_URL_SHAPE = re.compile(r"[a-z][a-z0-9+.-]*:\S+\Z", re.IGNORECASE)


def _looks_like_url_list(path: Path, timeout_seconds: float | None) -> bool:
    if not path.is_file() or not path.name.lower().endswith((".txt", ".urls", ".lst", ".list")):
        return False
    head = read_regular_file(path, 4096, timeout_seconds).decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [ln.strip() for ln in head.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    head_lines = lines[:20]
    # Every line shaped like a URL and one of them http(s): a stray file: or ftp: line is rejected on its
    # own by discover_url_list, rather than making the list an article.
    return any(is_url(ln) for ln in head_lines) and all(_URL_SHAPE.match(ln) for ln in head_lines)


def discover_url_list(path: Path, source: str, timeout_seconds: float | None = None) -> Discovery:
    """One candidate per URL line of a text file (a plain-text sitemap is one); ``#`` starts a comment.
    The file is read whole, within ``timeout_seconds`` (:func:`~broadsheet.tasks.fetch.read_regular_file`)."""
    found = Discovery()
    for number, line in _url_lines(path, timeout_seconds):
        if " " not in line and is_url(line):
            found.candidates.append(Candidate(line, source))
        else:
            found.rejections.append(Rejection("discover", line[:2000], source, "invalid_url",
                                              f"line {number} of {path} is not an http(s) URL"))
    return found
