"""The explorer's panels at scale: how long each takes on the synthetic warehouse of warehouse_scale.py.

Builds (or reuses) the synthetic warehouse of N articles, then times what a page of ``broadsheet explore``
runs: the selection (every article; one week; one source; one entity; one topic; a BM25 search's best
1,000 hits) and each search panel over it, the whole page as the server answers one search (open, selection
and every panel), the entity page of the most named entity, and the source-health page. Each figure is the
median of ``--runs`` runs; a selection and a whole page each on a fresh read-only connection, as the server
opens one per request, in wall and CPU milliseconds (CPU: every thread of the process, the fairer
figure on a shared machine). The machine's load average is recorded before and after.

    .venv/bin/python benchmarks/explore_panels.py --articles 1000000 [--folder /tmp/scale] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from results import append_section, markdown_table
from warehouse_scale import generate

from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.explore import (
    ENTITY_PANELS,
    HEALTH_PANELS,
    SEARCH_PANELS,
    open_explorer,
    page,
    panel,
    select_articles,
)
from broadsheet.warehouse.search import SearchFilters, open_index, refresh_index, search_text


def median_ms(action: Callable[[], Any], runs: int) -> tuple[str, str, Any]:
    """The median wall and CPU milliseconds of ``runs`` runs of ``action`` (CPU: this process, every DuckDB
    thread; on a shared machine the fairer comparison), and its last result."""
    times, cpu_times, result = [], [], None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
    return f"{statistics.median(times):.0f}", f"{statistics.median(cpu_times):.0f}", result


def selection_rows(settings: WarehouseSettings, label: str, filters: SearchFilters, ids: list[str] | None,
                   runs: int) -> list[list[str]]:
    def select() -> int:
        with contextlib.closing(open_explorer(settings)) as conn:
            return select_articles(conn, filters, ids)

    def whole_page() -> int:
        with contextlib.closing(open_explorer(settings)) as conn:
            select_articles(conn, filters, ids)
            return sum(len(found.rows) for found in page(conn, "search"))

    ms, cpu, selected = median_ms(select, runs)
    rows = [[f"{label}: open + selection", f"{selected:,}", ms, cpu]]
    print(rows[-1], flush=True)
    with contextlib.closing(open_explorer(settings)) as conn:
        select_articles(conn, filters, ids)
        for name in SEARCH_PANELS:
            ms, cpu, found = median_ms(lambda name=name: panel(conn, name), runs)
            rows.append([f"{label}: {name}", f"{len(found.rows):,}", ms, cpu])
            print(rows[-1], flush=True)
    ms, cpu, found_rows = median_ms(whole_page, runs)
    rows.append([f"{label}: whole page (open + selection + {len(SEARCH_PANELS)} panels)", f"{found_rows:,}",
                 ms, cpu])
    print(rows[-1], flush=True)
    return rows


def page_rows(settings: WarehouseSettings, runs: int) -> list[list[str]]:
    rows = []
    with contextlib.closing(open_explorer(settings)) as conn:
        top = conn.execute("select entity_id from entity_mention_counts limit 1").fetchone()
        for name in ENTITY_PANELS:
            ms, cpu, found = median_ms(lambda name=name: panel(conn, name, {"entity": top[0]}), runs)
            rows.append([f"entity page ({top[0]}): {name}", f"{len(found.rows):,}", ms, cpu])
            print(rows[-1], flush=True)
        for name in HEALTH_PANELS:
            ms, cpu, found = median_ms(lambda name=name: panel(conn, name), runs)
            rows.append([f"source health: {name}", f"{len(found.rows):,}", ms, cpu])
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000, help="articles in the synthetic warehouse")
    parser.add_argument("--folder", type=Path, default=None, help="where the warehouse is built (a temp folder)")
    parser.add_argument("--reuse", action="store_true", help="reuse <folder>/explore.duckdb if it exists")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is reported)")
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit while generating")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    options = parser.parse_args()
    folder = options.folder or Path(tempfile.mkdtemp(prefix="broadsheet-explore-"))
    folder.mkdir(parents=True, exist_ok=True)
    settings = WarehouseSettings(path=folder / "explore.duckdb")
    if not (options.reuse and settings.path.exists()):
        settings.path.unlink(missing_ok=True)
        with contextlib.closing(connect(settings)) as conn:
            conn.execute(f"set memory_limit = '{options.memory_limit}'")
            started = time.perf_counter()
            generate(conn, options.articles)
            conn.execute("checkpoint")
            print(f"generated {options.articles:,} articles in {time.perf_counter() - started:.0f} s", flush=True)

    load_before = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    index = open_index(settings)
    refresh_index(index)
    hits = [hit.article_id for hit in search_text(index, "harbour flood storm", limit=1000)]
    index.close()
    rows = selection_rows(settings, "every article", SearchFilters(), None, options.runs)
    rows += selection_rows(settings, "one week", SearchFilters(since=date(2025, 6, 1), until=date(2025, 6, 7)),
                           None, options.runs)
    rows += selection_rows(settings, "one source", SearchFilters(source="source-0"), None, options.runs)
    rows += selection_rows(settings, "one entity (Entity 1)", SearchFilters(entity="Entity 1"), None, options.runs)
    rows += selection_rows(settings, "one topic (politics)", SearchFilters(topic="politics"), None, options.runs)
    rows += selection_rows(settings, "search 'harbour flood storm' (best 1,000)", SearchFilters(), hits,
                           options.runs)
    rows += page_rows(settings, options.runs)
    load_after = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    if not options.no_record:
        append_section("Explorer panels at scale (benchmarks/explore_panels.py)",
                       {"articles": f"{options.articles:,}", "runs per figure": str(options.runs),
                        "load average (1, 5, 15 min) before and after": f"{load_before}; {load_after}",
                        "what": "each search panel over six selections and the whole search page, the entity "
                                "page of the most named entity, source health; on read-only connections like "
                                "the server's"},
                       markdown_table(["panel", "rows", "median (ms)", "median CPU (ms)"], rows))


if __name__ == "__main__":
    main()
