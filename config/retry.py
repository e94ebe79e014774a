"""One way to wait for a transient failure to pass: retry with a growing delay until a deadline.

A failure is worth another try when it says so (:attr:`BroadsheetError.transient`: a locked warehouse,
a write conflict); anything else is raised at once, and so is the last failure when the time is up:
the caller decides what giving up means.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from broadsheet.config.errors import BroadsheetError

T = TypeVar("T")


def retry_transient(action: Callable[[], T], wait_seconds: float, *, delay: float, max_delay: float | None = None,
                    kind: type[BroadsheetError] = BroadsheetError,
                    when: Callable[[BroadsheetError], bool] = lambda _exc: True) -> T:
    """``action()``, tried again after ``delay`` seconds (doubling up to ``max_delay``) while it raises a
    transient ``kind`` of error that ``when`` accepts and the next try would start within ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    ceiling = delay if max_delay is None else max_delay
    while True:
        try:
            return action()
        except kind as exc:
            if not (exc.transient and when(exc)) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, ceiling)
