"""SIGINT and SIGTERM stop a run cleanly: recorded ``interrupted``, its processes stopped, a known exit code.

A command that runs a flow does so inside :func:`stopping_on_signals`. The first SIGINT (Ctrl-C) or
SIGTERM (``kill``, a service manager) raises :class:`Interrupted` in the main thread, wherever it waits;
while a flow runs, Prefect turns SIGTERM into its own ``TerminationSignal`` first, and hands the signal
back once the flow has ended. Either way the exception unwinds the run: the flow records its run
``interrupted`` (:data:`INTERRUPTIONS`), the worker processes and the temporary Prefect server are
stopped, and the command exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM) without
waiting for threads still busy with a batch (one may be blocked in a read). A second signal exits at
once, recording nothing more.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from prefect.exceptions import TerminationSignal

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached the process: stop the run (a KeyboardInterrupt, so ``except Exception``
    never swallows it and Prefect treats it as a crash)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# What unwinds a run stopped from outside: our Interrupted, a plain Ctrl-C where no handler of ours is
# installed (a script), and Prefect's TerminationSignal (SIGTERM while a flow runs).
INTERRUPTIONS: tuple[type[BaseException], ...] = (KeyboardInterrupt, TerminationSignal)

_received: list[int] = []


def received() -> int | None:
    """The signal that interrupted this process, if one did."""
    return _received[0] if _received else None


def is_interruption(exc: BaseException) -> bool:
    """Whether ``exc`` unwinds a run stopped from outside (or one raised while it unwinds, say by an API
    that stopped answering meanwhile)."""
    return isinstance(exc, INTERRUPTIONS) or received() is not None


def exit_code(signum: int) -> int:
    return 128 + signum


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread for the block; a second one ends the
    process at once. The previous handlers come back when the block ends."""
    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if _received:
            exit_now(exit_code(signum))
        _received.append(signum)
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()  # the block has dealt with it (a command exits before this)


def exit_now(code: int) -> None:
    """End the process with ``code`` after flushing its output, without waiting for other threads (a batch
    blocked in a read would hold a normal exit up for ever) or running exit handlers."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed stream, or a reader gone: nothing to flush to
            stream.flush()
    os._exit(code)
