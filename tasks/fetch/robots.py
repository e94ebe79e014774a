"""robots.txt: which paths of a site broadsheet may fetch, how slowly, and which sitemaps it declares.

Rules are parsed with Protego, which implements RFC 9309: the group of the most specific user agent,
the longest matching path rule (``Allow`` wins a tie), the ``*`` and ``$`` wildcards, and a fractional
``Crawl-delay``. What an answer means follows RFC 9309 too: a 2xx body is parsed; a 4xx means there
are no rules (everything allowed); a 5xx or an unreachable host means "assume everything is
disallowed" until it can be read, which a rejection tells apart as ``robots_unreachable``.

:class:`RobotsStore` keeps parsed rules per origin (``scheme://host:port``) for
``http.robots_cache_seconds``; it is thread-safe and outlives an event loop, so a run reads each
site's robots.txt once. The fetching itself is done by :class:`broadsheet.tasks.fetch.Fetcher`,
through the same guarded, polite client as every other request.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from protego import Protego

MAX_ROBOTS_BYTES = 512_000  # RFC 9309: parse at least 500 KiB, ignore the rest
_SITEMAP_LINE = re.compile(r"^\s*site-?map\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RobotsRules:
    """What one site's robots.txt says (or what its absence means)."""

    origin: str
    parser: Protego | None = None  # None: no rules, everything allowed
    unreachable: bool = False  # 5xx or no answer: everything disallowed until it can be read
    reason: str = ""
    sitemaps: tuple[str, ...] = ()
    read_at: float = field(default_factory=time.monotonic)

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unreachable:
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: robots.txt and politeness apply per origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def sitemap_lines(text: str, base_url: str) -> tuple[str, ...]:
    """The ``Sitemap:`` URLs of a robots.txt (also the ``site-map:`` spelling), resolved, in order."""
    return tuple(dict.fromkeys(urljoin(base_url, match) for match in _SITEMAP_LINE.findall(text)))


def parse_robots(origin: str, content: bytes) -> RobotsRules:
    """The rules of a robots.txt body that was answered with a 2xx status."""
    text = content[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    return RobotsRules(origin, Protego.parse(text), sitemaps=sitemap_lines(text, origin + "/"))


def rules_for_status(origin: str, status: int) -> RobotsRules:
    """What a robots.txt answered with a non-2xx final status means (RFC 9309, section 2.3.1)."""
    if 400 <= status < 500:
        return RobotsRules(origin, reason=f"robots.txt answered HTTP {status}: no rules")
    return RobotsRules(origin, unreachable=True, reason=f"answered HTTP {status}")


def unreachable_rules(origin: str, message: str) -> RobotsRules:
    return RobotsRules(origin, unreachable=True, reason=f"could not be read ({message})")


class RobotsStore:
    """Parsed robots.txt per origin; safe to share between threads."""

    def __init__(self) -> None:
        self._rules: dict[str, RobotsRules] = {}
        self._lock = threading.Lock()

    def get(self, origin: str, max_age_seconds: float) -> RobotsRules | None:
        """The rules of ``origin`` if they were read at most ``max_age_seconds`` ago."""
        with self._lock:
            rules = self._rules.get(origin)
        if rules is None or time.monotonic() - rules.read_at > max_age_seconds:
            return None
        return rules

    def put(self, rules: RobotsRules) -> None:
        with self._lock:
            self._rules[rules.origin] = rules
