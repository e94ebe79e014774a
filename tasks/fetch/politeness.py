"""Politeness: how many requests go to a host at once, how far apart, and how a failed one backs off.

:class:`HostGate` hands out request slots. A request first takes one of the host's
``http.per_host_concurrency`` slots, then waits its turn: requests to one host *leave* at least the
host's delay apart (``http.host_delay_seconds``, or the robots.txt ``Crawl-delay`` when longer),
measured from the moment the previous one was written to the socket (httpcore's trace hook), not
from when it was scheduled, because a busy event loop can take tens of milliseconds between the two.
Only then does it take one of the ``http.concurrency`` slots shared by all hosts, so waiting for a
host's turn never holds a global slot and a slow or strict host does not starve the others.

The time each host may next be asked lives in a :class:`HostClock`, a plain thread-safe object that
outlives an event loop, so consecutive batches of one run keep the spacing too. A ``Retry-After``
answer pushes the host's clock forward, which delays every request to that host, not only the retry.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Added to every non-zero delay: a server's own clock reading of a request's arrival can lag the
# arrival by a scheduling hiccup (a millisecond or two), and the gap it logs must not fall short.
JITTER_MARGIN_SECONDS = 0.005


class HostClock:
    """When each host may next be asked (``time.monotonic()`` seconds); shared by every gate of a run."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def next_at(self, host: str) -> float:
        with self._lock:
            return self._next.get(host, 0.0)

    def push(self, host: str, at: float) -> None:
        """No request starts to ``host`` before ``at`` (never moves the clock back)."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), at)


class Departure:
    """A request's place in its host's queue, released once the request has left (or never will).

    The next request to the host may not start until this one's headers are on the wire *and* the
    delay has passed since then, so the host sees the gap even when this process was slow to send.
    """

    def __init__(self, clock: HostClock, host: str, delay: float, turn: asyncio.Lock):
        self._clock, self._host, self._delay, self._turn = clock, host, delay, turn
        self._done = False

    def sent(self) -> None:
        if not self._done:
            self._done = True
            margin = JITTER_MARGIN_SECONDS if self._delay > 0 else 0.0
            self._clock.push(self._host, time.monotonic() + self._delay + margin)
            self._turn.release()


class HostGate:
    """Global and per-host concurrency limits plus a minimum gap between requests to one host.

    Build one per event loop (its semaphores belong to the loop); share the :class:`HostClock`.
    """

    def __init__(self, concurrency: int, per_host_concurrency: int, clock: HostClock | None = None):
        self.clock = clock or HostClock()
        self._per_host = per_host_concurrency
        self._global = asyncio.Semaphore(concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def slot(self, host: str, delay: float) -> AsyncIterator[Departure]:
        """Hold a request slot for ``host``; call ``sent()`` on what it yields once the request is sent.

        The request starts at least ``delay`` s after the previous one to the host was sent.
        """
        host_slots = self._host_slots.setdefault(host, asyncio.Semaphore(self._per_host))
        turn = self._turns.setdefault(host, asyncio.Lock())
        async with host_slots:
            await turn.acquire()  # released by Departure.sent(): one request of a host departs at a time
            departure = Departure(self.clock, host, delay, turn)
            try:
                await self._wait_until(host)
                async with self._global:
                    yield departure
            finally:
                departure.sent()  # a request that failed before it was sent frees the host too

    async def _wait_until(self, host: str) -> None:
        # asyncio may wake a timer up to one clock tick early: loop until the time has really come.
        while (remaining := self.clock.next_at(host) - time.monotonic()) > 0:
            await asyncio.sleep(remaining)


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter" before retry number ``attempt + 1`` (``attempt`` from 0).

    Half of ``base * 2**attempt`` (capped at ``cap``) is fixed, the other half random, so clients
    that failed together do not retry together.
    """
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date); None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_retryable_status(status: int) -> bool:
    """429 (too many requests) and 5xx (server trouble) may succeed later; every other status is final."""
    return status == 429 or 500 <= status <= 599
