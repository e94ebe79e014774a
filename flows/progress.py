"""Progress of long runs, for whoever wants to show it (the CLI's progress bar); silent by default.

Flows call :func:`report` as work advances; a command that shows progress installs a reporter
with :func:`reporting` around the run. Nothing here reaches Prefect: it is a local display only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Reporter = Callable[[int, int, str], None]  # (done, total, what is happening)
_reporters: list[Reporter] = []


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send progress to ``reporter`` while the block runs."""
    _reporters.append(reporter)
    try:
        yield
    finally:
        _reporters.remove(reporter)


def report(done: int, total: int, what: str) -> None:
    for reporter in list(_reporters):
        reporter(done, total, what)
