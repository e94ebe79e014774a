"""Fetch candidate documents: HTTP(S) with httpx, or local files by their ``file://`` URL.

Every HTTP request becomes a :class:`FetchRecord`; every document that cannot be had becomes a
:class:`Rejection` with a code an analyst can group by:

``unsupported_scheme``  not http(s) or file          ``blocked_address``  private/loopback host
``connect_error``       DNS or TCP failure (transient) ``timeout``          too slow (transient)
``http_status``         4xx/5xx (5xx, 429 transient)   ``too_many_redirects`` redirect chain too long or a loop
``too_large``           body over the size cap         ``not_html``         content type we cannot extract
``unreadable_file``     local file missing or unreadable ``bad_gzip``       corrupt or truncated .gz file
``invalid_url``         malformed URL
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from broadsheet.config.errors import FetchError
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.records import Candidate, FetchRecord, Page, Rejection

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/feed+json", "application/json")
GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "text/plain")
_HTML_MARKER = re.compile(rb"<(?:head|body)[\s>]")
LOCAL_TYPES = {".html": "text/html", ".htm": "text/html", ".xhtml": "text/html", ".txt": "text/plain",
               ".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
               ".json": "application/json"}


@dataclass
class FetchOutcome:
    pages: list[Page] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def now_utc() -> datetime:
    return datetime.now(UTC)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def sniff_content_type(content: bytes, declared: str | None) -> str:
    """The declared media type, or a guess from the first bytes when it is missing or generic."""
    declared_type = media_type(declared)
    if declared_type and declared_type not in GENERIC_TYPES:
        return declared_type
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf:rdf", b"<urlset", b"<sitemapindex")):
        return "application/xml"
    if head.startswith((b"<!doctype html", b"<html")) or _HTML_MARKER.search(head):
        return "text/html"
    if head.startswith(b"{") and b"jsonfeed" in head:
        return "application/feed+json"
    return declared_type or "application/octet-stream"


def is_html(content_type: str) -> bool:
    return content_type in HTML_TYPES


def is_feed(content_type: str) -> bool:
    return content_type in FEED_TYPES or content_type.endswith(("+xml", "/xml"))


def local_path(url: str) -> Path:
    """The path of a ``file://`` URL."""
    return Path(unquote(urlsplit(url).path))


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def read_local(candidate: Candidate, max_bytes: int) -> Page:
    """A local file as a page; ``.gz`` files are decompressed, both sizes capped."""
    path = local_path(candidate.url)
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from exc
    if len(raw) > max_bytes:
        raise FetchError(f"{path} is larger than http.max_body_bytes={max_bytes}", code="too_large")
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        raw = _gunzip_capped(raw, max_bytes, str(path))
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    content_type = sniff_content_type(raw, LOCAL_TYPES.get(suffix))
    return Page(candidate.url, candidate.url, candidate.source, raw, content_type, now_utc(),
                candidate.title_hint, candidate.published_hint)


def _gunzip_capped(raw: bytes, max_bytes: int, name: str) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(f"{name} is not valid gzip: {exc}", code="bad_gzip") from exc
    if len(data) > max_bytes:
        raise FetchError(f"{name} decompresses to more than {max_bytes} bytes", code="too_large")
    if not decompressor.eof:
        raise FetchError(f"{name} is truncated: the gzip stream ends early", code="bad_gzip")
    return data


def parse_http_url(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL; FetchError for any other scheme or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise FetchError(f"{url[:300]!r} is not a valid URL: {exc}", code="invalid_url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"cannot fetch {url[:300]!r}: only http(s) URLs are fetched", code="unsupported_scheme")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_address(url: str, settings: HttpSettings) -> None:
    """Refuse non-http(s) or malformed URLs, and hosts that resolve to non-public addresses unless allowed."""
    hostname, port = parse_http_url(url)
    if settings.allow_private_addresses:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {hostname}: {exc}", code="connect_error", transient=True) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise FetchError(
                f"{hostname} resolves to non-public address {address}; set "
                "http.allow_private_addresses = true to fetch from it",
                code="blocked_address",
            )


class Fetcher:
    """An httpx client that follows redirects itself (to check each hop) and caps body size."""

    def __init__(self, settings: HttpSettings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.records: list[FetchRecord] = []
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(max_connections=settings.concurrency),
            follow_redirects=False,
            transport=transport,
        )
        self._slots = asyncio.Semaphore(settings.concurrency)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.aclose()

    async def fetch(self, candidate: Candidate) -> Page:
        """The page at the candidate's URL, following redirects; raises FetchError."""
        async with self._slots:
            deadline = asyncio.get_running_loop().time() + self.settings.total_timeout_seconds
            return await self._follow(candidate, deadline)

    async def _follow(self, candidate: Candidate, deadline: float) -> Page:
        url, seen = candidate.url, {candidate.url}
        for _ in range(self.settings.max_redirects + 1):
            await check_address(url, self.settings)
            status, headers, body = await self._request(url, deadline)
            location = headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                if url in seen:
                    raise FetchError(f"redirect loop at {url}", code="too_many_redirects")
                seen.add(url)
                continue
            if status >= 300:
                raise FetchError(f"{url} answered HTTP {status}", code="http_status",
                                 transient=status == 429 or status >= 500)
            content_type = sniff_content_type(body, headers.get("content-type"))
            return Page(candidate.url, url, candidate.source, body, content_type, now_utc(),
                        candidate.title_hint, candidate.published_hint)
        raise FetchError(f"more than {self.settings.max_redirects} redirects from {candidate.url}",
                         code="too_many_redirects")

    async def _request(self, url: str, deadline: float) -> tuple[int, httpx.Headers, bytes]:
        started_at, clock = now_utc(), time.perf_counter()
        status: int | None = None
        headers = httpx.Headers()
        body = bytearray()
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(self._client.build_request("GET", url), stream=True)
                status, headers = response.status_code, response.headers
                try:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.settings.max_body_bytes:
                            raise FetchError(f"{url} body exceeds http.max_body_bytes="
                                             f"{self.settings.max_body_bytes}", code="too_large")
                finally:
                    await response.aclose()
        except FetchError as exc:
            self._record(url, status, headers, len(body), started_at, clock, exc)
            raise
        except TimeoutError as exc:
            error = FetchError(f"{url} took longer than http.total_timeout_seconds="
                               f"{self.settings.total_timeout_seconds}", code="timeout", transient=True)
            self._record(url, status, headers, len(body), started_at, clock, error)
            raise error from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = translate_httpx_error(url, exc)
            self._record(url, status, headers, len(body), started_at, clock, error)
            raise error from exc
        self._record(url, status, headers, len(body), started_at, clock, None)
        assert status is not None  # set by the response whenever no exception was raised
        return status, headers, bytes(body)

    def _record(self, url: str, status: int | None, headers: httpx.Headers, size: int,
                started_at: datetime, clock: float, error: FetchError | None) -> None:
        self.records.append(FetchRecord(
            url=url, final_url=url if status is not None else None, status_code=status,
            content_type=headers.get("content-type"), bytes_read=size, etag=headers.get("etag"),
            last_modified=headers.get("last-modified"), started_at=started_at,
            elapsed_ms=(time.perf_counter() - clock) * 1000,
            error_type=error.code if error else None, error_message=error.message if error else None,
        ))


def translate_httpx_error(url: str, exc: httpx.HTTPError | httpx.InvalidURL) -> FetchError:
    """The one place httpx's errors become broadsheet's."""
    if isinstance(exc, httpx.InvalidURL):
        return FetchError(f"{url[:300]!r} is not a valid URL: {exc}", code="invalid_url")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"{url} timed out ({type(exc).__name__})", code="timeout", transient=True)
    if isinstance(exc, httpx.DecodingError):
        return FetchError(f"{url} sent a body that cannot be decoded: {exc}", code="bad_encoding")
    if isinstance(exc, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
        return FetchError(f"cannot fetch {url}: {exc or type(exc).__name__}", code="connect_error", transient=True)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(f"cannot fetch {url}: {exc}", code="unsupported_scheme")
    return FetchError(f"cannot fetch {url}: {exc or type(exc).__name__}", code="fetch", transient=True)


async def _fetch_all(candidates: list[Candidate], settings: HttpSettings,
                     transport: httpx.AsyncBaseTransport | None) -> FetchOutcome:
    outcome = FetchOutcome()
    async with Fetcher(settings, transport) as fetcher:
        async def one(candidate: Candidate) -> Page | Rejection:
            try:
                if candidate.url.startswith("file:"):
                    return read_local(candidate, settings.max_body_bytes)
                return await fetcher.fetch(candidate)
            except FetchError as exc:
                return Rejection.from_error("fetch", candidate.url, candidate.source, exc)

        for result in await asyncio.gather(*(one(c) for c in candidates)):
            (outcome.rejections if isinstance(result, Rejection) else outcome.pages).append(result)
        outcome.fetches.extend(fetcher.records)
    return outcome


def fetch_pages(candidates: Iterable[Candidate], settings: HttpSettings,
                transport: httpx.AsyncBaseTransport | None = None) -> FetchOutcome:
    """Fetch or read every candidate, concurrently; failures become rejections."""
    return asyncio.run(_fetch_all(list(candidates), settings, transport))


def require_html(pages: Iterable[Page]) -> tuple[list[Page], list[Rejection]]:
    """Keep pages whose content can be extracted: HTML, or plain text from a local file."""
    kept: list[Page] = []
    rejected: list[Rejection] = []
    for page in pages:
        if is_html(page.content_type) or (page.content_type == "text/plain" and page.url.startswith("file:")):
            kept.append(page)
        else:
            rejected.append(Rejection("fetch", page.url, page.source, "not_html",
                                      f"{page.final_url} is {page.content_type or 'of unknown type'}, "
                                      "not an HTML page; only HTML pages are extracted"))
    return kept, rejected


def gzip_bytes(content: bytes) -> bytes:
    return gzip.compress(content, compresslevel=6)
