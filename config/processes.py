"""Processes that die without cleaning up: the children they leave, and the runs they leave ``running``.

A process killed with SIGKILL cannot stop its children: the worker processes and Prefect's temporary
server would go on holding their memory (and the server its port) for good. Each child therefore
watches its parent (:func:`exit_with_parent`) and ends itself once the parent is gone. Checking the
parent's pid is enough: a child whose parent dies is handed to another process, so its parent pid changes.

Nor can it record the end of its run. A run records the process running it (:func:`process_start`), so
that a later run can tell one that is still going from one whose process is gone (:func:`is_running`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def exit_with_parent(parent: int, every_seconds: float = 1.0) -> None:
    """End this process (within ``every_seconds``) once ``parent`` is no longer its parent, from a thread
    of its own. ``parent`` is passed rather than read here: a parent that died before this call is seen."""
    threading.Thread(target=_watch_parent, args=(parent, every_seconds), name="parent-watch", daemon=True).start()


def _watch_parent(parent: int, every_seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(every_seconds)
    os._exit(0)


def process_start(pid: int | None = None) -> str | None:
    """When process ``pid`` (this one by default) started, as the kernel counts it, with the id of the boot:
    with the pid it names one process for good (pids are reused, start times are not). None where /proc
    is not, or the process is gone (a zombie is gone)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{boot}/{fields[19]}"  # field 22 of stat, the start time in clock ticks since boot


def is_running(pid: int, started: str | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` (:func:`process_start`) still runs."""
    now = process_start(pid)
    if now is not None or started is not None:
        return now == started
    try:  # no /proc here, nor where it started: the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
