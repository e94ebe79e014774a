"""Bookkeeping rows written outside batches: sources, the taxonomy's topics, and runs.

A run records the process running it (host, pid, and when the process started), so the next run to start
can mark ``abandoned`` the runs left ``running`` by a process that is gone.

Upserts are ``merge`` statements (DuckLake has no keys for ``on conflict``) run in the writers' turn
(:func:`broadsheet.warehouse.backend.in_turn`), so concurrent flow runs on DuckLake never add a
source or topic twice.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import duckdb
import orjson

from broadsheet.config.processes import is_running, process_start
from broadsheet.config.sources import SourceConfig
from broadsheet.config.taxonomy import Taxonomy
from broadsheet.warehouse.backend import in_turn
from broadsheet.warehouse.sql import query


@dataclass
class RunCounts:
    """How many documents each stage saw in one run."""

    discovered: int = 0
    fetched: int = 0
    extracted: int = 0
    duplicates: int = 0
    enriched: int = 0
    loaded: int = 0
    rejected: int = 0
    not_modified: int = 0  # unchanged since the last fetch (304, lastmod, same feed body): not rejections

    def add(self, other: RunCounts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def record_sources(conn: duckdb.DuckDBPyConnection, sources: Iterable[SourceConfig]) -> None:
    now = datetime.now(UTC)
    rows = [[s.name, s.kind, s.location, s.schedule, now, now] for s in {s.name: s for s in sources}.values()]
    in_turn(conn, lambda c: c.executemany(query("upsert_sources"), rows))


def record_topics(conn: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> None:
    rows = [[t.id, taxonomy.version, t.label, t.description, t.iptc_code] for t in taxonomy.topics]
    known = conn.execute(query("taxonomy_topic_count"), [taxonomy.version]).fetchone()
    if known and known[0] >= len(rows):
        return  # this taxonomy version is recorded: no write, so concurrent runs do not contend
    in_turn(conn, lambda c: c.executemany(query("insert_topic"), rows))


def start_run(conn: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, flow: str,
              parameters: dict) -> None:
    """Record the run ``running`` in this process, first marking the runs whose process is gone
    (:func:`abandon_dead_runs`)."""
    abandon_dead_runs(conn)
    conn.execute(
        query("insert_run"),
        [run_id, flow_run_id, flow, orjson.dumps(parameters, default=str).decode(), "running", datetime.now(UTC),
         socket.gethostname(), os.getpid(), process_start()],
    )


def abandon_dead_runs(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark ``abandoned`` every ``running`` run whose process is gone (killed, or failed before it could
    record its end): on this host, one whose pid no longer names the process that started it; one recorded
    before runs named their process. Runs of other hosts are left as they are. Returns the runs marked.

    A run marked by mistake (a live process this host cannot see) gets its own status when it ends."""
    host = socket.gethostname()
    dead = [run_id for run_id, run_host, pid, started in conn.execute(query("running_runs")).fetchall()
            if run_host is None or (run_host == host and not is_running(pid, started))]
    if dead:
        in_turn(conn, lambda c: c.execute(query("abandon_runs"), [datetime.now(UTC), dead]))
    return dead


def finish_run(conn: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: RunCounts) -> None:
    values = asdict(counts)
    in_turn(conn, lambda c: c.execute(
        query("finish_run"),
        [status, *values.values(), datetime.now(UTC), run_id],
    ))


def known_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> set[str]:
    """Which of ``article_ids`` the warehouse already holds."""
    if not article_ids:
        return set()
    rows = conn.execute(query("known_article_ids"), [article_ids]).fetchall()
    return {row[0] for row in rows}
