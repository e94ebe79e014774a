"""Read-only access for people: ad-hoc SQL and the summary behind ``broadsheet stats``."""

from __future__ import annotations

from typing import Any

import duckdb

from broadsheet.config.errors import QueryError, WarehouseError
from broadsheet.warehouse.connection import Target, check_read_only_sql, connected, describe, warehouse_exists
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
            raise QueryError(f"query failed: {exc}") from exc


def _records(conn: duckdb.DuckDBPyConnection, name: str,
             parameters: list[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
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


def article_report(path: Target, key: str) -> dict[str, Any]:
    """One article by id, URL or canonical URL: its metadata, entities with salience, topics, keyphrases,
    duplicate cluster and versions. QueryError when the warehouse holds no such article."""
    with connected(path, read_only=True) as conn:
        found = _records(conn, "show_article", {"key": key})
        if not found:
            raise QueryError(f"no article with id or URL {key!r}: find one with `broadsheet search` or "
                             "`broadsheet query \"select article_id, url from latest_articles\"`")
        article = found[0]
        ids = {"article_id": article["article_id"]}
        cluster_id = article.pop("cluster_id")
        cluster = {"cluster_id": cluster_id, "match_kind": article.pop("match_kind"),
                   "others": _records(conn, "show_cluster_members",
                                      {**ids, "cluster_id": cluster_id})}
        return {"article": article,
                "entities": _records(conn, "show_article_entities", ids),
                "topics": _records(conn, "show_article_topics", ids),
                "keyphrases": _records(conn, "show_article_keyphrases", ids),
                "cluster": cluster,
                "versions": _records(conn, "show_article_versions",
                                     {"canonical_url": article["canonical_url"]})}


def source_status(path: Target) -> dict[str, dict[str, Any]]:
    """Last fetch and health of each source with history, by name (empty without a warehouse)."""
    if not warehouse_exists(path):
        return {}
    with connected(path, read_only=True) as conn:
        return {row.pop("source_id"): row for row in _records(conn, "source_status")}
