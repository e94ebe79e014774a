"""Bookkeeping rows written outside batches: sources, the taxonomy's topics, and runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import duckdb
import orjson

from broadsheet.config.sources import SourceConfig
from broadsheet.config.taxonomy import Taxonomy


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
    conn.executemany(
        "insert into sources values (?, ?, ?, ?, ?, ?) on conflict (source_id) do update set "
        "kind = excluded.kind, location = excluded.location, schedule = excluded.schedule, "
        "updated_at = excluded.updated_at",
        [[s.name, s.kind, s.location, s.schedule, now, now] for s in sources],
    )


def record_topics(conn: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> None:
    conn.executemany(
        "insert into topics values (?, ?, ?, ?, ?) on conflict do nothing",
        [[t.id, taxonomy.version, t.label, t.description, t.iptc_code] for t in taxonomy.topics],
    )


def start_run(conn: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, flow: str,
              parameters: dict) -> None:
    conn.execute(
        "insert into runs (run_id, flow_run_id, flow, parameters, status, started_at) values (?, ?, ?, ?, ?, ?)",
        [run_id, flow_run_id, flow, orjson.dumps(parameters, default=str).decode(), "running", datetime.now(UTC)],
    )


def finish_run(conn: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: RunCounts) -> None:
    values = asdict(counts)
    conn.execute(
        "update runs set status = ?, discovered = ?, fetched = ?, extracted = ?, duplicates = ?, enriched = ?, "
        "loaded = ?, rejected = ?, not_modified = ?, ended_at = ? where run_id = ?",
        [status, *values.values(), datetime.now(UTC), run_id],
    )


def known_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> set[str]:
    """Which of ``article_ids`` the warehouse already holds."""
    if not article_ids:
        return set()
    rows = conn.execute("select article_id from articles where list_contains(?, article_id)",
                        [article_ids]).fetchall()
    return {row[0] for row in rows}
