"""Bookkeeping rows written outside batches: sources, the taxonomy's topics, and runs.

Upserts are ``merge`` statements (DuckLake has no keys for ``on conflict``) run in the writers' turn
(:func:`broadsheet.warehouse.backend.in_turn`), so concurrent flow runs on DuckLake never add a
source or topic twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import duckdb
import orjson

from broadsheet.config.sources import SourceConfig
from broadsheet.config.taxonomy import Taxonomy
from broadsheet.warehouse.backend import in_turn


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
    in_turn(conn, lambda c: c.executemany(
        "merge into sources using (select ?::varchar as source_id, ?::varchar as kind, ?::varchar as location, "
        "?::varchar as schedule, ?::timestamptz as created_at, ?::timestamptz as updated_at) as new "
        "on sources.source_id = new.source_id "
        "when matched then update set kind = new.kind, location = new.location, schedule = new.schedule, "
        "updated_at = new.updated_at when not matched then insert values "
        "(new.source_id, new.kind, new.location, new.schedule, new.created_at, new.updated_at)", rows))


def record_topics(conn: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> None:
    rows = [[t.id, taxonomy.version, t.label, t.description, t.iptc_code] for t in taxonomy.topics]
    known = conn.execute("select count(*) from topics where taxonomy_version = ?", [taxonomy.version]).fetchone()
    if known and known[0] >= len(rows):
        return  # this taxonomy version is recorded: no write, so concurrent runs do not contend
    in_turn(conn, lambda c: c.executemany(
        "insert into topics select $1, $2, $3, $4, $5 where not exists "
        "(select 1 from topics where topic_id = $1 and taxonomy_version = $2)", rows))


def start_run(conn: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, flow: str,
              parameters: dict) -> None:
    conn.execute(
        "insert into runs (run_id, flow_run_id, flow, parameters, status, started_at) values (?, ?, ?, ?, ?, ?)",
        [run_id, flow_run_id, flow, orjson.dumps(parameters, default=str).decode(), "running", datetime.now(UTC)],
    )


def finish_run(conn: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: RunCounts) -> None:
    values = asdict(counts)
    in_turn(conn, lambda c: c.execute(
        "update runs set status = ?, discovered = ?, fetched = ?, extracted = ?, duplicates = ?, enriched = ?, "
        "loaded = ?, rejected = ?, not_modified = ?, ended_at = ? where run_id = ?",
        [status, *values.values(), datetime.now(UTC), run_id],
    ))


def known_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> set[str]:
    """Which of ``article_ids`` the warehouse already holds."""
    if not article_ids:
        return set()
    rows = conn.execute("select article_id from articles where list_contains(?, article_id)",
                        [article_ids]).fetchall()
    return {row[0] for row in rows}
