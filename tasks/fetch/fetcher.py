"""Fetch candidate documents politely: HTTP(S) with httpx, local files, and records in WARC/ARC files.

For every http(s) URL (and every redirect hop) the :class:`Fetcher` checks the address
(:mod:`~broadsheet.tasks.fetch.guard`), reads and obeys the site's robots.txt (:mod:`~broadsheet.tasks.fetch.robots`),
waits for a slot and its turn at the host (:mod:`~broadsheet.tasks.fetch.politeness`), sends the URL's
validators from the last fetch (``If-None-Match``, ``If-Modified-Since``), and retries timeouts,
lost connections, 429 and 5xx with jittered exponential backoff or the server's ``Retry-After``.
Every request becomes a :class:`FetchRecord`; a 304 (or a sitemap ``lastmod`` no newer than our last
fetch) is :class:`NotModified`, counted but not re-extracted; every document that cannot be had becomes
a :class:`Rejection` with a code an analyst can group by:

``unsupported_scheme``  not http(s) or file          ``blocked_address``  private/loopback host
``connect_error``       DNS or TCP failure (transient) ``timeout``          too slow (transient)
``http_status``         4xx/5xx (5xx, 429 transient)   ``too_many_redirects`` redirect chain too long or a loop
``too_large``           body over the size cap         ``not_html``         content type we cannot extract
``unreadable_file``     local file missing or unreadable ``bad_gzip``       corrupt or truncated .gz file
``invalid_url``         malformed URL                  ``robots_disallowed`` robots.txt forbids it
``robots_unreachable``  robots.txt answered 5xx or could not be fetched: nothing is fetched from the site (transient)
``crawl_delay_too_long`` robots.txt Crawl-delay over http.max_crawl_delay_seconds
``bad_warc``            a WARC/ARC record that cannot be read
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, FetchRecord, Page, Rejection, Validators
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.fetch.charset import charset_of
from broadsheet.tasks.fetch.documents import (
    now_utc,
    read_local,
    sniff_content_type,
)
from broadsheet.tasks.fetch.guard import check_address, pin_request
from broadsheet.tasks.fetch.politeness import (
    Departure,
    HostClock,
    HostGate,
    backoff_seconds,
    is_retryable_status,
    retry_after_seconds,
)
from broadsheet.tasks.fetch.robots import (
    RobotsRules,
    RobotsStore,
    origin_of,
    parse_robots,
    robots_url,
    rules_for_status,
    unreachable_rules,
)
from broadsheet.tasks.fetch.warc import read_archive_record

REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_REDIRECTS = 5  # RFC 9309: follow at least five
DEPARTURE = "broadsheet.departure"  # request extension that carries the host-queue place to a custom transport


@dataclass
class FetchState:
    """What outlives one batch: when each host may next be asked, and each site's robots.txt."""

    clock: HostClock = field(default_factory=HostClock)
    robots: RobotsStore = field(default_factory=RobotsStore)


@dataclass(frozen=True)
class NotModified:
    """A candidate the warehouse already has as it is now: a 304, or a lastmod older than our fetch."""

    candidate: Candidate
    reason: str


@dataclass
class FetchOutcome:
    pages: list[Page] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    not_modified: list[NotModified] = field(default_factory=list)


@dataclass(frozen=True)
class _Response:
    status: int
    headers: httpx.Headers
    body: bytes


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from the validators of the URL's last fetch."""
    headers: dict[str, str] = {}
    if validators is not None and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators is not None and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def unchanged_since_fetch(candidate: Candidate, validators: Validators | None) -> bool:
    """Whether a sitemap's lastmod says the page has not changed since the warehouse fetched it."""
    return (candidate.modified_hint is not None and validators is not None and validators.fetched_at is not None
            and candidate.modified_hint <= validators.fetched_at)


class Fetcher:
    """An httpx client that is polite per host, obeys robots.txt, retries, and checks every hop."""

    def __init__(self, settings: HttpSettings, transport: httpx.AsyncBaseTransport | None = None,
                 state: FetchState | None = None):
        self.settings = settings
        self.state = state or FetchState()
        self.records: list[FetchRecord] = []
        self._sees_the_wire = transport is None  # httpcore reports when headers are sent; others do not
        if transport is not None:
            transport = _MarkingTransport(transport)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(max_connections=settings.concurrency),
            follow_redirects=False,
            transport=transport,
        )
        self._gate = HostGate(settings.concurrency, settings.per_host_concurrency, self.state.clock)
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.aclose()

    async def fetch(self, candidate: Candidate, validators: Validators | None = None) -> Page | NotModified:
        """The page at the candidate's URL, following redirects; raises FetchError."""
        url, seen = candidate.url, {candidate.url}
        headers = conditional_headers(validators)
        for _ in range(self.settings.max_redirects + 1):
            address = await check_address(url, self.settings)
            delay = await self._obey_robots(url)
            response = await self._send(url, address, delay, headers)
            if response.status == 304 and headers:
                return NotModified(candidate, "304")
            location = response.headers.get("location")
            if response.status in REDIRECTS and location:
                url, headers = urljoin(url, location), {}
                if url in seen:
                    raise FetchError(f"redirect loop at {url}", code="too_many_redirects")
                seen.add(url)
                continue
            if response.status >= 300:
                raise FetchError(f"{url} answered HTTP {response.status}", code="http_status",
                                 transient=is_retryable_status(response.status))
            declared = response.headers.get("content-type")
            return Page(candidate.url, url, candidate.source, response.body,
                        sniff_content_type(response.body, declared), now_utc(),
                        candidate.title_hint, candidate.published_hint, charset_of(declared))
        raise FetchError(f"more than {self.settings.max_redirects} redirects from {candidate.url}",
                         code="too_many_redirects")

    async def robots_rules(self, url: str) -> RobotsRules:
        """The robots.txt rules of ``url``'s site, read once per site and kept in the state."""
        origin = origin_of(url)
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:  # concurrent documents of one site wait for one read
            rules = self.state.robots.get(origin, self.settings.robots_cache_seconds)
            if rules is None:
                rules = await self._read_robots(origin)
                self.state.robots.put(rules)
            return rules

    async def _read_robots(self, origin: str) -> RobotsRules:
        url = robots_url(origin)
        try:
            for _ in range(ROBOTS_REDIRECTS + 1):
                address = await check_address(url, self.settings)
                response = await self._send(url, address, self.settings.host_delay_seconds, {})
                location = response.headers.get("location")
                if response.status in REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                if 200 <= response.status < 300:
                    return parse_robots(origin, response.body)
                return rules_for_status(origin, response.status)
        except FetchError as exc:
            return unreachable_rules(origin, exc.message)
        return unreachable_rules(origin, f"more than {ROBOTS_REDIRECTS} redirects")

    async def _obey_robots(self, url: str) -> float:
        """Raise if robots.txt forbids ``url``; the delay between requests to its host otherwise."""
        if not self.settings.obey_robots:
            return self.settings.host_delay_seconds
        rules = await self.robots_rules(url)
        if rules.unreachable:
            raise FetchError(f"{url} is not fetched: {rules.origin}/robots.txt {rules.reason}, and until it "
                             "can be read nothing of the site is (RFC 9309); a later run tries again",
                             code="robots_unreachable", transient=True)
        if not rules.allows(url, self.settings.user_agent):
            raise FetchError(f"{url} is disallowed by {rules.origin}/robots.txt", code="robots_disallowed")
        crawl_delay = rules.crawl_delay(self.settings.user_agent) or 0.0
        if crawl_delay > self.settings.max_crawl_delay_seconds:
            raise FetchError(f"{rules.origin}/robots.txt asks for Crawl-delay {crawl_delay:g} s, more than "
                             f"http.max_crawl_delay_seconds={self.settings.max_crawl_delay_seconds:g}",
                             code="crawl_delay_too_long")
        return max(self.settings.host_delay_seconds, crawl_delay)

    async def _send(self, url: str, address: str | None, delay: float, headers: dict[str, str]) -> _Response:
        """One URL, retried while the failure is transient and retries are left."""
        host = urlsplit(url).hostname or url
        attempt = 0
        while True:
            try:
                async with self._gate.slot(host, delay) as departure:
                    response = await self._request(url, address, headers, departure)
            except FetchError as exc:
                if not exc.transient or attempt >= self.settings.max_retries:
                    raise
                wait = self._backoff(attempt)
            else:
                if not is_retryable_status(response.status) or attempt >= self.settings.max_retries:
                    return response
                asked = retry_after_seconds(response.headers.get("retry-after"))
                if asked is not None and asked > self.settings.max_retry_after_seconds:
                    return response  # the site asks for more patience than configured: a later run retries
                wait = self._backoff(attempt) if asked is None else asked
                self._gate.clock.push(host, time.monotonic() + wait)  # the whole host waits, not only this URL
            await asyncio.sleep(wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        base = self.settings.retry_backoff_seconds
        return backoff_seconds(attempt, base, max(base, self.settings.max_retry_after_seconds))

    async def _request(self, url: str, address: str | None, headers: dict[str, str],
                       departure: Departure) -> _Response:
        started_at, clock = now_utc(), time.perf_counter()
        status: int | None = None
        response_headers = httpx.Headers()
        body = bytearray()
        try:
            async with asyncio.timeout(self.settings.total_timeout_seconds):
                request = pin_request(self._client.build_request("GET", url, headers=headers), address)
                hook = {"trace": _on_sent(departure)} if self._sees_the_wire else {DEPARTURE: departure}
                request.extensions = {**request.extensions, **hook}
                response = await self._client.send(request, stream=True)
                status, response_headers = response.status_code, response.headers
                try:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.settings.max_body_bytes:
                            raise FetchError(f"{url} body exceeds http.max_body_bytes="
                                             f"{self.settings.max_body_bytes}", code="too_large")
                finally:
                    await response.aclose()
        except FetchError as exc:
            self._record(url, status, response_headers, body, started_at, clock, exc)
            raise
        except TimeoutError as exc:
            error = FetchError(f"{url} took longer than http.total_timeout_seconds="
                               f"{self.settings.total_timeout_seconds}", code="timeout", transient=True)
            self._record(url, status, response_headers, body, started_at, clock, error)
            raise error from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = translate_httpx_error(url, exc)
            self._record(url, status, response_headers, body, started_at, clock, error)
            raise error from exc
        self._record(url, status, response_headers, body, started_at, clock, None)
        assert status is not None  # set by the response whenever no exception was raised
        return _Response(status, response_headers, bytes(body))

    def _record(self, url: str, status: int | None, headers: httpx.Headers, body: bytearray,
                started_at: datetime, clock: float, error: FetchError | None) -> None:
        complete = status == 200 and error is None
        self.records.append(FetchRecord(
            url=url, final_url=url if status is not None else None, status_code=status,
            content_type=headers.get("content-type"), bytes_read=len(body), etag=headers.get("etag"),
            last_modified=headers.get("last-modified"), started_at=started_at,
            elapsed_ms=(time.perf_counter() - clock) * 1000,
            error_type=error.code if error else None, error_message=error.message if error else None,
            body_sha256=hashlib.sha256(body).hexdigest() if complete else None,
        ))


class _MarkingTransport(httpx.AsyncBaseTransport):
    """A transport given by the caller (tests, benchmarks): the request departs as it is handed over."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        departure = request.extensions.get(DEPARTURE)
        if isinstance(departure, Departure):
            departure.sent()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _on_sent(departure: Departure) -> Callable[[str, dict], Awaitable[None]]:
    """An httpcore trace hook that marks the departure once the request headers are written.

    After the write, not before: a pause of this process between the mark and the write could only
    make the host see a longer gap, never a shorter one.
    """
    async def trace(event: str, _info: dict) -> None:
        if event.endswith("send_request_headers.complete"):
            departure.sent()
    return trace


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


async def _fetch_one(fetcher: Fetcher, candidate: Candidate,
                     validators: Validators | None) -> Page | NotModified | Rejection:
    try:
        if candidate.archive is not None:
            return read_archive_record(candidate, fetcher.settings.max_body_bytes)
        if candidate.url.startswith("file:"):
            return read_local(candidate, fetcher.settings.max_body_bytes, fetcher.settings.timeout_seconds)
        if unchanged_since_fetch(candidate, validators):
            return NotModified(candidate, "lastmod")
        return await fetcher.fetch(candidate, validators)
    except FetchError as exc:
        return Rejection.from_error("fetch", candidate.url, candidate.source, exc)


async def fetch_all(candidates: list[Candidate], settings: HttpSettings,
                    transport: httpx.AsyncBaseTransport | None = None,
                    validators: Mapping[str, Validators] | None = None,
                    state: FetchState | None = None) -> FetchOutcome:
    """Fetch or read every candidate concurrently, within the politeness limits."""
    outcome = FetchOutcome()
    known = validators or {}
    async with Fetcher(settings, transport, state) as fetcher:
        results = await asyncio.gather(*(_fetch_one(fetcher, c, known.get(c.url)) for c in candidates))
        for result in results:
            if isinstance(result, Rejection):
                outcome.rejections.append(result)
            elif isinstance(result, NotModified):
                outcome.not_modified.append(result)
            else:
                outcome.pages.append(result)
        outcome.fetches.extend(fetcher.records)
    return outcome


def fetch_pages(candidates: Iterable[Candidate], settings: HttpSettings,
                transport: httpx.AsyncBaseTransport | None = None, *,
                validators: Mapping[str, Validators] | None = None,
                state: FetchState | None = None) -> FetchOutcome:
    """Fetch or read every candidate; failures become rejections, unchanged documents NotModified."""
    return asyncio.run(fetch_all(list(candidates), settings, transport, validators, state))


__all__ = ["FetchOutcome", "FetchState", "Fetcher", "NotModified", "conditional_headers", "fetch_all", "fetch_pages",
           "translate_httpx_error", "unchanged_since_fetch"]
