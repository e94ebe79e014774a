"""``broadsheet explore``: a local, read-only web explorer over the warehouse (Starlette + Vega-Lite).

The server answers JSON for the page and CSV for each panel; the page (``explore_static/``) draws the
panels with Vega-Lite, whose scripts and the world outline ship in ``explore_static/vendor/``, so nothing
is fetched from the internet. Each request opens the warehouse read-only and closes it at once, so a load
is never blocked for longer than one query; while a load holds the file the request retries for
``wait`` seconds and then answers 503 with ``busy``, which the page shows and retries. A text or
semantic search runs as ``broadsheet search`` does (its index refreshed when stale), and its hits become
the selection every panel describes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import threading
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pycountry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from broadsheet.config.errors import BroadsheetError, WarehouseError
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import Settings
from broadsheet.flows.report import SourceHealth
from broadsheet.flows.search import run_search
from broadsheet.warehouse.explore import (
    PAGES,
    Panel,
    open_explorer,
    page,
    panel,
    select_articles,
    selection_parameters,
    selection_sql,
)
from broadsheet.warehouse.search import SearchFilters

STATIC_DIR = Path(__file__).resolve().parent / "explore_static"
MAX_HITS = 100_000


def create_app(settings: Settings, wait: float = 5.0) -> Starlette:
    """The explorer's web app over the warehouse of ``settings``."""
    explorer = _Explorer(settings, wait)
    routes = [
        Route("/", lambda _request: FileResponse(STATIC_DIR / "index.html")),
        Route("/api/{page:str}.csv", explorer.csv),
        Route("/api/{page:str}", explorer.json),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={BroadsheetError: _error})


def _error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BroadsheetError)
    if isinstance(exc, WarehouseError) and exc.transient:
        return JSONResponse({"busy": True, "error": f"{exc} Retrying."}, status_code=503)
    return JSONResponse({"busy": False, "error": str(exc)}, status_code=404 if exc.code == "missing" else 400)


class _Explorer:
    """The requests: one page's panels as JSON, or one panel as CSV."""

    def __init__(self, settings: Settings, wait: float) -> None:
        self.settings = settings
        self.wait = wait
        self.search_lock = threading.Lock()  # one index refresh at a time

    def json(self, request: Request) -> Response:
        name = _page_name(request)
        panels, extra = self._panels(name, request)
        return JSONResponse(_jsonable({**extra, "panels": {p.name: _panel_json(p) for p in panels}}))

    def csv(self, request: Request) -> Response:
        name = _page_name(request)
        wanted = request.query_params.get("panel", "")
        panels, _ = self._panels(name, request, only=wanted)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(panels[0].columns)
        writer.writerows(panels[0].rows)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="broadsheet-{wanted}.csv"'})

    def _panels(self, name: str, request: Request, only: str = "") -> tuple[list[Panel], dict[str, Any]]:
        params = request.query_params
        if only and only not in PAGES[name]:
            raise WarehouseError(f"page {name!r} has no panel {only!r}: choose one of {', '.join(PAGES[name])}",
                                 code="query")
        hits = self._hits(params) if name == "search" else None
        return retry_transient(lambda: self._read(name, params, hits, only), self.wait, delay=0.25,
                               kind=WarehouseError)

    def _hits(self, params: Any) -> list[str] | None:
        text = params.get("q", "").strip()
        if not text:
            return None
        mode = "semantic" if params.get("mode") == "semantic" else "text"
        limit = _bounded_int(params.get("limit", "1000"), 1, MAX_HITS, "limit")
        with self.search_lock:
            found = retry_transient(lambda: run_search(self.settings, text, mode, _filters(params), limit),
                                    self.wait, delay=0.25, kind=WarehouseError)
        return [hit.article_id for hit in found]

    def _read(self, name: str, params: Any, hits: list[str] | None, only: str) -> tuple[list[Panel], dict[str, Any]]:
        with contextlib.closing(open_explorer(self.settings.warehouse)) as conn:
            extra: dict[str, Any] = {}
            bound: dict[str, Any] | None = None
            if name == "search":
                filters = _filters(params)
                selected = select_articles(conn, filters, hits)
                extra = {"selection": {"sql": selection_sql(), "articles": selected,
                                       "parameters": selection_parameters(filters, hits and hits[:20])}}
            elif name == "entity":
                bound = {"entity": params.get("id", "")}
            panels = [panel(conn, only, bound)] if only else page(conn, name, bound)
        return [_with_extras(p) for p in panels], extra


def _page_name(request: Request) -> str:
    name = str(request.path_params["page"])
    if name not in PAGES:
        raise WarehouseError(f"no explorer page {name!r}: choose one of {', '.join(PAGES)}", code="missing")
    return name


def _filters(params: Any) -> SearchFilters:
    def day(key: str) -> date | None:
        value = params.get(key, "").strip()
        try:
            return date.fromisoformat(value) if value else None
        except ValueError as exc:
            raise WarehouseError(f"{key} must be a day as YYYY-MM-DD, not {value!r}", code="query") from exc

    def text(key: str) -> str | None:
        return params.get(key, "").strip() or None

    return SearchFilters(day("since"), day("until"), text("source"), text("entity"), text("topic"))


def _bounded_int(value: str, low: int, high: int, what: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise WarehouseError(f"{what} must be a whole number from {low} to {high}, not {value!r}", code="query")
    return int(value)


def _numeric_country(alpha_2: str | None) -> str | None:
    """The ISO 3166-1 numeric code the world outline names its countries by."""
    country = pycountry.countries.get(alpha_2=alpha_2) if alpha_2 else None
    return country.numeric if country else None


def _drift(row: tuple[Any, ...]) -> str:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    health = SourceHealth(row[0], int(row[1] or 0), *(number(v) for v in row[2:5]), int(row[5]),
                          *(number(v) for v in row[6:9]))
    return "; ".join(health.drift())


# Columns the server adds to a panel's rows, after its SQL: name, what from the row, which panel.
_EXTRAS: dict[str, tuple[str, Callable[[tuple[Any, ...]], Any]]] = {
    "countries": ("iso_numeric", lambda row: _numeric_country(row[0])),
    "source_drift": ("warning", _drift),
}


def _with_extras(found: Panel) -> Panel:
    if found.name not in _EXTRAS:
        return found
    column, value = _EXTRAS[found.name]
    return Panel(found.name, found.sql, found.parameters, [*found.columns, column],
                 [(*row, value(row)) for row in found.rows])


def _panel_json(found: Panel) -> dict[str, Any]:
    return {"sql": found.sql, "parameters": found.parameters, "columns": found.columns,
            "rows": [dict(zip(found.columns, row, strict=True)) for row in found.rows]}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def serve_explorer(settings: Settings, port: int, wait: float, on_ready: Callable[[str], None]) -> None:
    """Serve the explorer on 127.0.0.1:``port`` until interrupted (``port`` 0 picks a free one)."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(create_app(settings, wait), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    on_ready(f"http://127.0.0.1:{sock.getsockname()[1]}/")
    server.run(sockets=[sock])
