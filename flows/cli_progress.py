"""The ingest progress display: one bar per stage, and library log lines printed above the bars.

Each bar counts documents: ``fetched`` out of what discovery found, ``extracted`` out of the pages
fetched so far, ``enriched`` out of the new articles so far, and the batches loaded. The bars move as the
worker processes hand back each job (:mod:`broadsheet.tasks.progress`), so they move within a batch. The
bars stay on screen when the run ends (a record of the counts). While they are drawn, log handlers that
write to the terminal (Prefect's, shown with ``--verbose``) write through the bars' console, so a log
line lands above the bars instead of across them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broadsheet.tasks.progress import Reporter

STAGES = {"fetch": "fetched", "extract": "extracted", "enrich": "enriched", "batches": "batches loaded"}


@contextmanager
def stage_bars(console: Console) -> Iterator[Reporter]:
    """Bars on ``console`` for the block; yields the reporter to give the run."""
    with Progress(TextColumn("{task.description:>14}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bars, logs_through(console):
        rows = {stage: bars.add_task(label, total=None) for stage, label in STAGES.items()}
        totals: dict[str, int] = {}
        lock = threading.Lock()  # worker-result threads and batch threads report at once

        def report(stage: str, finished: int, expected: int) -> None:
            if stage not in rows:
                return
            with lock:
                if expected:
                    totals[stage] = totals.get(stage, 0) + expected
                bars.update(rows[stage], advance=finished, total=totals.get(stage))

        yield report


@contextmanager
def logs_through(console: Console) -> Iterator[None]:
    """Every terminal log handler writes through ``console`` (its live display) for the block."""
    swapped: list[tuple[logging.Handler, str, Any]] = []
    for handler in _terminal_handlers():
        if isinstance(getattr(handler, "console", None), Console):  # Prefect's handler prints with Rich
            swapped.append((handler, "console", handler.console))  # type: ignore[attr-defined]
            handler.console = console  # type: ignore[attr-defined]
        elif isinstance(handler, logging.StreamHandler):
            swapped.append((handler, "stream", handler.stream))
            handler.setStream(console.file)
    try:
        yield
    finally:
        for handler, attribute, previous in swapped:
            if attribute == "console":
                handler.console = previous  # type: ignore[attr-defined]
            else:
                handler.setStream(previous)  # type: ignore[attr-defined]


def _terminal_handlers() -> list[logging.Handler]:
    """Handlers of every logger that write to stdout or stderr."""
    import sys

    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    found: dict[int, logging.Handler] = {}
    for logger in loggers:
        for handler in logger.handlers:
            stream = getattr(handler, "stream", None)
            if stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
                found[id(handler)] = handler
    return list(found.values())
