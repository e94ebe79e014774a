"""Progress of long runs, stage by stage, for whoever shows it (the CLI's bars); silent by default.

Each stage says how many documents it expects (:func:`expect`: discovery the candidates to fetch,
fetching the pages to extract, extraction the new articles to enrich) and how many it finished
(:func:`advance`) as it finishes them: the worker pool reports each job (``pipeline.worker_chunk``
documents) as it comes back, so progress moves within a batch, not only between batches. A command
that shows progress installs a reporter with :func:`reporting` around the run; reporters are called
from worker-result threads too, so they must be thread-safe. Nothing here reaches Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Reporter = Callable[[str, int, int], None]  # (stage, documents finished now, documents newly expected)
_reporters: list[Reporter] = []


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send progress to ``reporter`` while the block runs."""
    _reporters.append(reporter)
    try:
        yield
    finally:
        _reporters.remove(reporter)


def expect(stage: str, documents: int) -> None:
    """``documents`` more are on their way to ``stage``."""
    if documents:
        for reporter in list(_reporters):
            reporter(stage, 0, documents)


def advance(stage: str, documents: int) -> None:
    """``stage`` finished ``documents`` more (done or rejected)."""
    if documents:
        for reporter in list(_reporters):
            reporter(stage, documents, 0)
