"""How a flow run is recorded in the warehouse's ``runs`` table, and how a flow waits for a locked warehouse.

Every flow that writes (ingest, reenrich, reextract) runs its work inside :func:`recorded_run`: the run is
recorded ``running`` as it starts and gets its final status and counts however it ends (one killed with
SIGKILL cannot: the next run marks it ``abandoned``, :func:`broadsheet.warehouse.runs.abandon_dead_runs`).
Both writes wait for a warehouse another process holds, as a load does (:func:`in_warehouse`,
``warehouse.lock_wait_seconds``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import duckdb
from prefect.logging import get_run_logger

from broadsheet.config.errors import BroadsheetError, WarehouseError
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import WarehouseSettings
from broadsheet.flows.interrupt import is_interruption
from broadsheet.warehouse.connection import connected
from broadsheet.warehouse.runs import RunCounts, finish_run, start_run

T = TypeVar("T")
Connection = duckdb.DuckDBPyConnection


def in_warehouse(target: WarehouseSettings, action: Callable[[Connection], T]) -> T:
    """``action`` on a connection to the warehouse. While another process holds it, waits up to
    ``warehouse.lock_wait_seconds`` (saying so in the run's log), then raises the ``locked`` error."""
    def attempt() -> T:
        with connected(target) as conn:
            return action(conn)

    waited: list[str] = []

    def locked(exc: BroadsheetError) -> bool:
        if exc.code != "locked":
            return False
        if not waited:
            waited.append(exc.message)
            get_run_logger().warning("%s: waiting up to %g s for it (warehouse.lock_wait_seconds)",
                                     exc.message, target.lock_wait_seconds)
        return True

    try:
        return retry_transient(attempt, target.lock_wait_seconds, delay=0.25, max_delay=2.0, kind=WarehouseError,
                               when=locked)
    except WarehouseError as exc:
        if exc.code == "locked" and waited:
            raise WarehouseError(f"{exc.message} (waited {target.lock_wait_seconds:g} s, "
                                 "warehouse.lock_wait_seconds)", code="locked", transient=True) from exc
        raise


@contextlib.contextmanager
def recorded_run(target: WarehouseSettings, run_id: str, flow_run_id: str | None, flow: str,
                 parameters: dict[str, Any], *, before: Callable[[Connection], object] = lambda _conn: None,
                 after: Callable[[Connection, str], object] = lambda _conn, _status: None) -> Iterator[RunCounts]:
    """The block as run ``run_id`` of ``flow``: recorded ``running`` (after ``before(conn)``) as the block
    starts; ``completed`` when it ends, ``interrupted`` when SIGINT or SIGTERM stops it
    (:mod:`.interrupt`), ``failed`` when it raises anything else, with the counts the block kept in the
    yielded :class:`RunCounts` (after ``after(conn, status)``)."""
    def begin(conn: Connection) -> None:
        before(conn)
        start_run(conn, run_id, flow_run_id, flow, parameters)

    in_warehouse(target, begin)
    counts, status = RunCounts(), "failed"
    try:
        yield counts
        status = "completed"
    except BaseException as exc:
        status = "interrupted" if is_interruption(exc) else "failed"
        raise
    finally:
        def end(conn: Connection) -> None:
            after(conn, status)
            finish_run(conn, run_id, status, counts)

        in_warehouse(target, end)
