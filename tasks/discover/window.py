"""Which discovered candidates a run takes: those dated on or after ``discover.since``, and at most
``discover.limit`` that the warehouse does not hold yet, so a 100,000-URL sitemap is tried or backfilled
in bounded pieces.

A candidate's date is the later of the dates its source gives it: a feed item's date, a sitemap's news
publication date or ``lastmod``, a WARC record's ``WARC-Date``. A candidate without any date is kept by
``since`` (nothing says it is old; the run counts how many were kept undated). The limit counts only
candidates the warehouse has not seen (no stored page, no rejection), in the order the source lists
them, so the next run with the same limit takes the next ones, and failures (a 404, a robots.txt rule)
at the head of a sitemap never stall it; a run without a limit retries them as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from broadsheet.config.records import Candidate
from broadsheet.config.settings import DiscoverSettings

SeenUrls = Callable[[list[str]], Collection[str]]


@dataclass
class Window:
    """The candidates taken, and how many of the others were left out and why."""

    candidates: list[Candidate] = field(default_factory=list)
    before_since: int = 0
    undated: int = 0  # kept although undated (only counted when since is set)
    already_seen: int = 0
    over_limit: int = 0

    def describe(self) -> str:
        return (f"took {len(self.candidates)} candidates; left out {self.before_since} dated before "
                f"discover.since, {self.already_seen} already seen, {self.over_limit} over discover.limit; "
                f"{self.undated} undated taken")


def candidate_date(candidate: Candidate) -> datetime | None:
    """The latest date the source gave a candidate, if any."""
    dates = [d if d.tzinfo else d.replace(tzinfo=UTC) for d in (candidate.published_hint, candidate.modified_hint) if d]
    return max(dates, default=None)


def select_candidates(candidates: list[Candidate], settings: DiscoverSettings, seen: SeenUrls) -> Window:
    """The candidates within ``settings.since`` and ``settings.limit`` (all of them when neither is set)."""
    window = Window()
    dated = _since(candidates, settings.since, window)
    if settings.limit is None:
        window.candidates = dated
        return window
    known = set(seen([c.url for c in dated]))
    fresh = [c for c in dated if c.url not in known]
    window.already_seen = len(dated) - len(fresh)
    window.candidates, window.over_limit = fresh[:settings.limit], max(0, len(fresh) - settings.limit)
    return window


def _since(candidates: list[Candidate], since: date | None, window: Window) -> list[Candidate]:
    if since is None:
        return candidates
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    kept = []
    for candidate in candidates:
        when = candidate_date(candidate)
        if when is None:
            window.undated += 1
        elif when < start:
            window.before_since += 1
            continue
        kept.append(candidate)
    return kept
