"""Read-only access for people: ad-hoc SQL and the summary behind ``broadsheet stats``."""

from __future__ import annotations

from typing import Any

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.connection import Target, connect, describe

TABLES = ("sources", "runs", "fetches", "pages", "articles", "entities", "entity_aliases", "mentions",
          "topics", "article_topics", "rejections")


def run_query(path: Target, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` run on a read-only connection."""
    conn = connect(path, read_only=True)
    try:
        result = conn.execute(sql)
        columns = [d[0] for d in result.description or []]
        return columns, result.fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"query failed: {exc}", code="query") from exc
    finally:
        conn.close()


def _records(conn: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    result = conn.execute(sql)
    columns = [d[0] for d in result.description or []]
    return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def warehouse_report(path: Target, limit: int = 10) -> dict[str, Any]:
    """Row counts, top entities and topics, rejections by reason and the latest runs."""
    conn = connect(path, read_only=True)
    try:
        # Table names come from the constant TABLES, not from input.
        tables = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
        return {
            "warehouse": describe(path),
            "tables": tables,
            "top_entities": _records(conn, f"select name, entity_type, articles, mentions "
                                           f"from entity_mention_counts limit {int(limit)}"),
            "top_topics": _records(conn, f"select label, articles, round(mean_score, 3) as mean_score "
                                         f"from topic_article_counts limit {int(limit)}"),
            "rejections": _records(conn, "select stage, error_type, rejections, example_url "
                                         "from rejection_reasons"),
            "runs": _records(conn, "select run_id, status, discovered, loaded, rejected, started_at "
                                   "from runs order by started_at desc limit 5"),
        }
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read the warehouse summary from {path}: {exc}", code="query") from exc
    finally:
        conn.close()
