"""Read-only access for people: ad-hoc SQL and the summary behind ``broadsheet stats``."""

from __future__ import annotations

from typing import Any

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.connection import Target, check_read_only_sql, connected, describe
from broadsheet.warehouse.sql import query

TABLES = ("sources", "runs", "fetches", "pages", "articles", "entities", "entity_aliases", "mentions",
          "topics", "article_topics", "rejections")


def run_query(path: Target, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` run on a read-only, sandboxed connection."""
    with connected(path, read_only=True) as conn:
        check_read_only_sql(conn, sql)
        try:
            result = conn.execute(sql)
            columns = [d[0] for d in result.description or []]
            return columns, result.fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"query failed: {exc}", code="query") from exc


def _records(conn: duckdb.DuckDBPyConnection, name: str, parameters: list[Any] | None = None) -> list[dict[str, Any]]:
    result = conn.execute(query(name), parameters or [])
    columns = [d[0] for d in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def warehouse_report(path: Target, limit: int = 10) -> dict[str, Any]:
    """Row counts, top entities and topics, rejections by reason and the latest runs."""
    with connected(path, read_only=True) as conn:
        return _report(conn, path, limit)


def _report(conn: duckdb.DuckDBPyConnection, path: Target, limit: int) -> dict[str, Any]:
    try:
        # Table names come from the constant TABLES, not from input.
        tables = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
        return {
            "warehouse": describe(path),
            "tables": tables,
            "top_entities": _records(conn, "report_top_entities", [int(limit)]),
            "top_topics": _records(conn, "report_top_topics", [int(limit)]),
            "rejections": _records(conn, "report_rejections"),
            "runs": _records(conn, "report_latest_runs"),
        }
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read the warehouse summary from {path}: {exc}", code="query") from exc
