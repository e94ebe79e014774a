"""What ``broadsheet explore`` shows: a selection of articles and the panels that describe it, in SQL.

A connection of the explorer attaches the warehouse read-only as ``warehouse`` and makes it the default
catalog, so every panel is plain SQL over the analysts' views and tables, the same an analyst runs in a
DuckDB session of their own. A search first fills the temporary table ``selection``
(``queries/explore_selection.sql``: the search's hits, or every latest article version, passed through
the search's filters); each search panel (``queries/explore_<panel>.sql``) then reads it. The entity
page's and the source-health panels read the views directly. Opening takes no lock a load needs: a load
that holds the file makes it fail with a transient ``locked`` error, for the caller to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.backend import attach_sql, load_extension
from broadsheet.warehouse.search import SearchFilters
from broadsheet.warehouse.sql import query

SEARCH_PANELS = ("attention", "entities", "topics", "subtopics", "sources", "countries", "cities", "stories")
ENTITY_PANELS = ("entity", "entity_mentions", "entity_cooccurring", "entity_aliases", "entity_stories")
HEALTH_PANELS = ("source_health", "source_drift")
PAGES = {"search": SEARCH_PANELS, "entity": ENTITY_PANELS, "sources": HEALTH_PANELS}


@dataclass(frozen=True)
class Panel:
    """One panel's answer: the SQL that made it, its parameters, and its rows."""

    name: str
    sql: str
    parameters: dict[str, Any]
    columns: list[str]
    rows: list[tuple[Any, ...]]


def open_explorer(settings: WarehouseSettings) -> duckdb.DuckDBPyConnection:
    """An in-memory session with the warehouse attached read-only as ``warehouse`` (and used by default)."""
    if settings.backend == "duckdb" and not settings.path.exists():
        raise WarehouseError(f"no warehouse at {settings.path}: run `broadsheet ingest` first or pass --db",
                             code="missing")
    conn = duckdb.connect()
    try:
        conn.execute("set timezone = 'UTC'")
        if settings.backend == "ducklake":
            load_extension(conn, "postgres")
            load_extension(conn, "ducklake")
        conn.execute(attach_sql(settings, "warehouse", read_only=True))
        conn.execute("use warehouse")
    except duckdb.Error as exc:
        conn.close()
        locked = "lock" in str(exc).lower()
        raise WarehouseError(f"cannot open warehouse {settings.path} to explore: "
                             f"{'a load is writing to it' if locked else exc}",
                             code="locked" if locked else "io", transient=locked) from exc
    return conn


def selection_sql() -> str:
    """The SQL that fills ``selection``, with the search's filters in place."""
    return query("explore_selection").replace("{filters}", query("explore_filters"))


def selection_parameters(filters: SearchFilters, article_ids: list[str] | None) -> dict[str, Any]:
    return {"ids": article_ids, "since": filters.since, "until": filters.until, "source": filters.source,
            "entity": filters.entity, "topic": filters.topic}


def select_articles(conn: duckdb.DuckDBPyConnection, filters: SearchFilters,
                    article_ids: list[str] | None = None) -> int:
    """Fill ``selection`` with the latest versions passing ``filters`` (and among ``article_ids``, when
    given); the number of articles selected."""
    _execute(conn, "selection", selection_sql(), selection_parameters(filters, article_ids))
    row = conn.execute("select count(*) from selection").fetchone()
    return int(row[0]) if row else 0


def panel(conn: duckdb.DuckDBPyConnection, name: str, parameters: dict[str, Any] | None = None) -> Panel:
    """The rows of ``queries/explore_<name>.sql`` with its named ``parameters`` bound."""
    if not any(name in panels for panels in PAGES.values()):
        raise WarehouseError(f"no explorer panel {name!r}: choose one of "
                             f"{', '.join(p for panels in PAGES.values() for p in panels)}", code="query")
    sql = query(f"explore_{name}")
    bound = parameters or {}
    result = _execute(conn, name, sql, bound)
    columns = [column[0] for column in result.description or []]
    return Panel(name, sql, bound, columns, result.fetchall())


def page(conn: duckdb.DuckDBPyConnection, name: str, parameters: dict[str, Any] | None = None) -> list[Panel]:
    """Every panel of one page of the explorer (``search`` needs ``select_articles`` first)."""
    return [panel(conn, panel_name, parameters) for panel_name in PAGES[name]]


def _execute(conn: duckdb.DuckDBPyConnection, name: str, sql: str,
             parameters: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    try:
        return conn.execute(sql, parameters) if parameters else conn.execute(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"the explorer's {name} query failed: {exc}", code="query") from exc
