"""A robots.txt that cannot be read (nothing listening, a 5xx) is ``robots_unreachable``, apart from one that
disallows: RFC 9309 says to assume everything is disallowed until it can be read, and the reason says so."""

from __future__ import annotations

import socket

from broadsheet.config.records import Candidate
from broadsheet.config.settings import Settings
from broadsheet.tasks.fetch.fetcher import fetch_pages


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_robots_txt_nobody_answers_is_unreachable_not_disallowed(settings: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}/story"
    http = settings.http.model_copy(update={"obey_robots": True})
    [rejection] = fetch_pages([Candidate(url, "t")], http).rejections
    assert (rejection.error_type, rejection.transient) == ("robots_unreachable", True)
    assert rejection.message.startswith(f"{url} was not fetched: robots.txt could not be read (")
    assert "disallowed by" not in rejection.message
