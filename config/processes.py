"""The processes broadsheet starts end with the process that started them.

A process killed with SIGKILL cannot stop its children: the worker processes and Prefect's temporary
server would go on holding their memory (and the server its port) for good. Each child therefore
watches its parent (:func:`exit_with_parent`) and ends itself once the parent is gone. Checking the
parent's pid is enough: a child whose parent dies is handed to another process, so its parent pid changes.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, every_seconds: float = 1.0) -> None:
    """End this process (within ``every_seconds``) once ``parent`` is no longer its parent, from a thread
    of its own. ``parent`` is passed rather than read here: a parent that died before this call is seen."""
    threading.Thread(target=_watch_parent, args=(parent, every_seconds), name="parent-watch", daemon=True).start()


def _watch_parent(parent: int, every_seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(every_seconds)
    os._exit(0)
