"""The explorer's panels read article_facts (migration 0014) and answer exactly what they answered when they
read latest_articles and the enrichment tables: the queries of schema 13, kept in
fixtures/explore_queries_0013, are the reference, run on the same warehouse for several selections, with a
revised article (two versions) and a story printed three times (an exact and a near copy)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import DAY, FLOOD, WIRE, article, derived_rows, load

from broadsheet.config.records import (
    Article,
    Batch,
    Enrichment,
    Entity,
    Mention,
    Page,
    Salience,
    SubtopicScore,
    TopicScore,
)
from broadsheet.config.settings import TopicSettings, WarehouseSettings
from broadsheet.tasks.enrich import taxonomy_for
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.explore import (
    ENTITY_PANELS,
    SEARCH_PANELS,
    open_explorer,
    panel,
    select_articles,
    selection_parameters,
)
from broadsheet.warehouse.runs import record_topics
from broadsheet.warehouse.search import SearchFilters

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "explore_queries_0013"
TAXONOMY = taxonomy_for(TopicSettings())
ECONOMY, DISASTER, CRIME = "economy-business-finance", "disaster-accident-emergency", "crime-law-justice"
BUDGET = ("The finance minister presented a budget that cuts income tax for low earners and raises spending on "
          "hospitals and schools, paid for by a new levy on banks. The opposition called it a giveaway before "
          "the election, while business groups welcomed the lower energy taxes for manufacturers.")

COSTA = Entity("e-costa", "Maria Costa", "person", "maria costa")
BANK = Entity("e-bank", "Central Bank", "organization", "central bank")
LISBON = Entity("e-lisbon", "Lisbon", "place", "lisbon", "PT", 38.72, -9.14, "city:2267057")
PORTO = Entity("e-porto", "Porto", "place", "porto", "PT", 41.15, -8.61, "city:2735943")
PORTUGAL = Entity("e-portugal", "Portugal", "place", "portugal", "PT", 39.5, -8.0, "country:PT")
ATHLONE = Entity("e-athlone", "Athlone", "place", "athlone", "IE", 53.42, -7.94, "city:2966131")


def enriched(item: Article, named: dict[Entity, int], topics: list[str],
             subtopics: list[tuple[str, str]]) -> Enrichment:
    """``item`` naming each entity so many times in its body, with its topics ranked in the order given and
    the subtopics (topic, label), ranked under their topic in the order given."""
    mentions = tuple(Mention(e.entity_id, surface, 10 * k, 10 * k + len(surface), False)
                     for e, count in named.items() for k, surface in enumerate([e.name, e.name.split()[-1]][:count]))
    salience = tuple(Salience(e.entity_id, count, k == 0, k < 2, 40 * k, 0.5)
                     for k, (e, count) in enumerate(named.items()))
    ranks: dict[str, int] = {}
    scored = []
    for topic, label in subtopics:
        ranks[topic] = ranks.get(topic, 0) + 1
        scored.append(SubtopicScore(topic, f"iptc-{label}", label, 3, f"iptc2-{topic}", f"{topic} level 2",
                                    0.4 / ranks[topic], ranks[topic]))
    return Enrichment(item.article_id, tuple(named), mentions,
                      tuple(TopicScore(t, 0.9 - 0.2 * r, r + 1) for r, t in enumerate(topics)), "ner@1", "topics@1",
                      TAXONOMY.version, salience, subtopics=tuple(scored))


def batch(*pairs: tuple[Article, Enrichment]) -> Batch:
    items = [item for item, _ in pairs]
    return Batch(items, [found for _, found in pairs],
                 [Page(a.url, a.url, a.source, a.text.encode(), "text/html", a.fetched_at) for a in items])


RATES = article("https://a.example/rates", WIRE, source="a", title="Rates up")
RATES_COPY = article("https://b.example/rates-copy", WIRE, source="b", title="Rates up (copy)",
                     published=DAY + timedelta(hours=1))
RATES_EDIT = article("https://c.example/rates-edit", WIRE.replace("Tuesday", "Tuesday morning"), source="c",
                     title="Rates up again", published=DAY + timedelta(hours=2))
FLOODED = article("https://a.example/flood", FLOOD, source="a", title="Flood", published=DAY + timedelta(days=1))
BUDGETED = article("https://b.example/budget", BUDGET, source="b", title="Budget", seen=DAY + timedelta(days=3),
                   published=None)
# Short items on two days, each its own story: more than twenty stories, tied on the stories panel's order.
BRIEFS = [article(f"https://{'abc'[i % 3]}.example/brief-{i}", " ".join(f"w{i}x{j}" for j in range(60)),
                  source="abc"[i % 3], title=f"Brief {i}", published=DAY + timedelta(days=i % 2, minutes=i))
          for i in range(24)]
def reporter(number: int) -> Entity:
    """People named in the briefs: more than ten of a type, tied on stories, so the top ten is cut in a tie."""
    return Entity(f"e-reporter-{number}", f"Reporter {number}", "person", f"reporter {number}")


RATES_REVISED = article("https://a.example/rates", WIRE + " Update: the governor spoke again in Porto on Wednesday.",
                        source="a", title="Rates up (updated)", seen=DAY + timedelta(days=1))


def loaded(target: WarehouseSettings) -> WarehouseSettings:
    """The test's warehouse: two runs, the second revising the wire story's original and adding an undated
    article."""
    conn = connect(target)
    record_topics(conn, TAXONOMY)
    conn.close()
    load(target, batch(
        (RATES, enriched(RATES, {COSTA: 3, BANK: 2, LISBON: 1}, [ECONOMY, CRIME],
                         [(ECONOMY, "interest rate"), (ECONOMY, "inflation"), (CRIME, "fraud")])),
        (RATES_COPY, enriched(RATES_COPY, {COSTA: 2, BANK: 1}, [ECONOMY], [(ECONOMY, "interest rate")])),
        (RATES_EDIT, enriched(RATES_EDIT, {COSTA: 1, LISBON: 2, PORTUGAL: 1}, [ECONOMY, DISASTER],
                              [(ECONOMY, "interest rate"), (DISASTER, "flood")])),
        (FLOODED, enriched(FLOODED, {ATHLONE: 2, PORTUGAL: 1, COSTA: 1}, [DISASTER], [(DISASTER, "flood")])),
        *((brief, enriched(brief, {COSTA: 1, reporter(i % 13): 1 + i % 3} if i % 4 else {BANK: 1, LISBON: 1},
                           [CRIME], [(CRIME, "fraud")]))
          for i, brief in enumerate(BRIEFS)),
    ), run_id="run1")
    load(target, batch(
        (RATES_REVISED, enriched(RATES_REVISED, {COSTA: 4, PORTO: 2, PORTUGAL: 1}, [ECONOMY],
                                 [(ECONOMY, "central bank")])),
        (BUDGETED, enriched(BUDGETED, {BANK: 1, COSTA: 1}, [ECONOMY, CRIME], [(ECONOMY, "tax")])),
    ), run_id="run2")
    return target


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> WarehouseSettings:
    return loaded(WarehouseSettings(path=tmp_path_factory.mktemp("equivalence") / "w.duckdb"))


def test_loads_and_reenrichment_keep_the_facts_mentions_and_subtopics_equal_to_a_rebuild(tmp_path: Path) -> None:
    target = loaded(WarehouseSettings(path=tmp_path / "w.duckdb"))
    assert derived_rows(target) == derived_rows(target, rebuilt=True)
    again = enriched(RATES_COPY, {BANK: 5, PORTO: 1}, [DISASTER], [(DISASTER, "storm"), (DISASTER, "flood")])
    load(target, Batch(enrichments=[again], reenriched=[RATES_COPY.article_id]), run_id="reenrich1")
    assert derived_rows(target) == derived_rows(target, rebuilt=True)
    with contextlib.closing(open_explorer(target)) as conn:
        named = conn.execute("""
            select entities.entity_id, named.mentions
            from (
                select unnest(entity_keys) as entity_key, unnest(entity_mentions) as mentions
                from article_facts where article_id = $id
            ) as named
            inner join entities on entities.entity_key = named.entity_key
            order by entities.entity_id""", {"id": RATES_COPY.article_id}).fetchall()
        subtopics = conn.execute("select top_subtopics from article_facts where article_id = ?",
                                 [RATES_COPY.article_id]).fetchone()
    assert named == [("e-bank", 5), ("e-porto", 1)]
    assert subtopics == ([{"iptc_code": "iptc-storm", "label": "storm",
                           "level2_label": "disaster-accident-emergency level 2"}],)


SELECTIONS: dict[str, tuple[SearchFilters, list[str] | None]] = {
    "all": (SearchFilters(), None),
    "dates": (SearchFilters(since=DAY.date(), until=(DAY + timedelta(days=1)).date()), None),
    "source": (SearchFilters(source="b"), None),
    "entity by name": (SearchFilters(entity="maria COSTA"), None),
    "entity by id": (SearchFilters(entity="e-portugal"), None),
    "topic by id": (SearchFilters(topic=DISASTER), None),
    "topic by label": (SearchFilters(topic="Crime, Law and Justice"), None),
    "search": (SearchFilters(), [RATES_REVISED.article_id, FLOODED.article_id, RATES.article_id]),
    "search and a filter": (SearchFilters(source="a"), [RATES_COPY.article_id, FLOODED.article_id]),
    "nothing": (SearchFilters(), []),
}


def reference_rows(conn: duckdb.DuckDBPyConnection, name: str, parameters: dict[str, Any]) -> list[tuple]:
    sql = (REFERENCE / f"explore_{name}.sql").read_text(encoding="utf-8")
    return conn.execute(sql, parameters).fetchall() if parameters else conn.execute(sql).fetchall()


def reference_selection(conn: duckdb.DuckDBPyConnection, filters: SearchFilters, ids: list[str] | None) -> None:
    sql = (REFERENCE / "explore_selection.sql").read_text(encoding="utf-8")
    sql = sql.replace("{filters}", (REFERENCE / "search_filters.sql").read_text(encoding="utf-8"))
    conn.execute(sql, selection_parameters(filters, ids))


def test_the_warehouse_has_a_revised_article_and_a_story_printed_three_times(warehouse: WarehouseSettings) -> None:
    with contextlib.closing(open_explorer(warehouse)) as conn:
        versions = conn.execute("select max(versions) from article_facts").fetchone()
        copies = conn.execute("select max(copies), max(exact_copies) + max(near_copies) from story_clusters").fetchone()
    assert versions == (2,) and copies == (3, 2)


@pytest.mark.parametrize("selection", SELECTIONS)
def test_every_search_panel_answers_as_the_schema_13_queries_did(warehouse: WarehouseSettings,
                                                                  selection: str) -> None:
    filters, ids = SELECTIONS[selection]
    with contextlib.closing(open_explorer(warehouse)) as conn:
        reference_selection(conn, filters, ids)
        before = {name: reference_rows(conn, name, {}) for name in SEARCH_PANELS}
        select_articles(conn, filters, ids)
        after = {name: panel(conn, name).rows for name in SEARCH_PANELS}
    assert after == before
    assert selection == "nothing" or before["attention"]


def test_every_entity_panel_answers_as_the_schema_13_queries_did(warehouse: WarehouseSettings) -> None:
    with contextlib.closing(open_explorer(warehouse)) as conn:
        entities = [row[0] for row in conn.execute("select entity_id from entities order by 1").fetchall()]
        for entity in [*entities, "e-nobody"]:
            before = {name: reference_rows(conn, name, {"entity": entity}) for name in ENTITY_PANELS}
            after = {name: panel(conn, name, {"entity": entity}).rows for name in ENTITY_PANELS}
            assert after == before, entity
    assert len(entities) == 18  # the six above and twelve reporters
