"""The explorer's SQL: one selection that every search panel reads, stories counted once per cluster."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest

from broadsheet.config.errors import WarehouseError
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.explore import PAGES, open_explorer, page, panel, select_articles
from broadsheet.warehouse.search import SearchFilters
from tests.helpers import DAY, FLOOD, WIRE, article, batch_of, load


@pytest.fixture
def warehouse(tmp_path: Path) -> WarehouseSettings:
    """A wire story printed by two sources (one cluster, two articles) and a flood story a day later."""
    target = WarehouseSettings(path=tmp_path / "w.duckdb")
    load(target, batch_of(article("https://a.example/rates", WIRE, source="a", title="Rates up"),
                          article("https://b.example/rates-copy", WIRE, source="b", title="Rates up (copy)",
                                  published=DAY + timedelta(hours=1)),
                          article("https://a.example/flood", FLOOD, source="a", title="Flood",
                                  published=DAY + timedelta(days=1))))
    return target


def rows_of(target: WarehouseSettings, name: str, filters: SearchFilters | None = None,
            ids: list[str] | None = None) -> list[dict]:
    with contextlib.closing(open_explorer(target)) as conn:
        select_articles(conn, filters or SearchFilters(), ids)
        found = panel(conn, name)
    return [dict(zip(found.columns, row, strict=True)) for row in found.rows]


def test_attention_counts_a_story_printed_twice_once(warehouse: WarehouseSettings) -> None:
    assert [(r["day"], r["stories"], r["articles"]) for r in rows_of(warehouse, "attention")] == [
        (DAY.date(), 1, 2), ((DAY + timedelta(days=1)).date(), 1, 1)]


def test_the_search_filters_narrow_every_panel(warehouse: WarehouseSettings) -> None:
    only_b = SearchFilters(source="b")
    assert [(r["source_id"], r["articles"]) for r in rows_of(warehouse, "sources", only_b)] == [("b", 1)]
    assert [r["articles"] for r in rows_of(warehouse, "attention", only_b)] == [1]
    later = SearchFilters(since=(DAY + timedelta(days=1)).date())
    assert [r["title"] for r in rows_of(warehouse, "stories", later)] == ["Flood"]


def test_search_hits_become_the_selection(warehouse: WarehouseSettings) -> None:
    flood = article("https://a.example/flood", FLOOD).article_id
    assert [r["title"] for r in rows_of(warehouse, "stories", ids=[flood])] == ["Flood"]
    assert rows_of(warehouse, "attention", ids=[]) == []


def test_a_story_lists_its_original_then_its_copies(warehouse: WarehouseSettings) -> None:
    wire = [(r["role"], r["source_id"], r["copies"]) for r in rows_of(warehouse, "stories")
            if r["title"].startswith("Rates")]
    assert wire == [("original", "a", 2), ("copy", "b", 2)]  # b was loaded first: it seeded the cluster


def test_top_entities_count_stories_and_carry_a_daily_trend(warehouse: WarehouseSettings) -> None:
    [costa] = rows_of(warehouse, "entities")
    assert (costa["name"], costa["stories"], costa["articles"], costa["trend"]) == ("Maria Costa", 2, 3, [1, 1])


def test_sources_count_their_stories_and_articles(warehouse: WarehouseSettings) -> None:
    assert {r["source_id"]: (r["stories"], r["articles"]) for r in rows_of(warehouse, "sources")} == {
        "a": (2, 2), "b": (1, 1)}


def test_every_panel_of_every_page_runs(warehouse: WarehouseSettings) -> None:
    with contextlib.closing(open_explorer(warehouse)) as conn:
        select_articles(conn, SearchFilters())
        costa = conn.execute("select entity_id from entities").fetchone()[0]
        found = {p.name: p for name in PAGES
                 for p in page(conn, name, {"entity": costa} if name == "entity" else None)}
    assert set(found) == {name for names in PAGES.values() for name in names}
    assert found["entity_mentions"].rows and found["entity_stories"].rows and found["cities"].columns


def test_an_unknown_panel_is_refused_with_the_choices(warehouse: WarehouseSettings) -> None:
    with contextlib.closing(open_explorer(warehouse)) as conn, pytest.raises(WarehouseError, match="attention"):
        panel(conn, "../secrets")


def test_a_missing_warehouse_says_to_ingest_first(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="broadsheet ingest"):
        open_explorer(WarehouseSettings(path=tmp_path / "none.duckdb"))
