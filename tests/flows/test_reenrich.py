"""Re-enrichment: after a taxonomy change only stale articles are redone, from stored text, without duplicates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers import rows

from broadsheet.config.settings import DEFAULT_TOPICS_FILE, Settings
from broadsheet.config.sources import SourceConfig
from broadsheet.flows.ingest import ingest_flow
from broadsheet.flows.reenrich import count_stale, reenrich_flow
from broadsheet.tasks.enrich import topics
from broadsheet.tasks.enrich.topic_head import load_head

pytestmark = pytest.mark.usefixtures("prefect_harness")

STORIES = {
    "tram.txt": "Lisbon approves tram line\nLisbon's city council approved a new tram line on Tuesday. Mayor "
                "Carlos Moedas said the line would link the airport with the old town by 2028, and Moedas "
                "promised that the transport agency Carris would run it every five minutes.",
    "vote.txt": "Portugal votes on Sunday\nVoters in Portugal elect a new parliament on Sunday. Prime Minister "
                "Luis Montenegro hopes his party will win a majority, while the Socialist Party campaigned on "
                "housing and wages across the country.",
}


@pytest.fixture
def loaded(settings: Settings, tmp_path: Path) -> Settings:
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, text in STORIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest_flow([SourceConfig(name="local", location=str(folder), kind="folder")], settings)
    return settings


def test_ingest_records_enrichers_salience_keyphrases_and_places(loaded: Settings) -> None:
    assert rows(loaded, "select count(*) from article_enrichments") == [(2,)]
    assert rows(loaded, "select count(distinct article_id) from keyphrases") == [(2,)]
    moedas = rows(loaded, "select ae.mentions, ae.in_lead from article_entities ae join entities e "
                          "using (entity_id) where e.name = 'Carlos Moedas'")
    assert moedas == [(2, True)]
    assert rows(loaded, "select country_code from entities where name = 'Lisbon'") == [("PT",)]


def test_reenrich_redoes_only_stale_articles_without_duplicates(loaded: Settings, tmp_path: Path) -> None:
    assert reenrich_flow(loaded).stale == 0
    before = rows(loaded, "select count(*) from mentions")
    taxonomy = tmp_path / "topics.toml"
    taxonomy.write_text(DEFAULT_TOPICS_FILE.read_text(encoding="utf-8") + '\n[[topics]]\nid = "transport"\n'
                        'label = "transport"\ndescription = "Trams, trains, buses, airports and roads."\n',
                        encoding="utf-8")
    changed = loaded.model_copy(update={"topics": loaded.topics.model_copy(update={"taxonomy_file": taxonomy})})
    assert count_stale(changed).stale == 2
    summary = reenrich_flow(changed)
    assert (summary.stale, summary.enriched) == (2, 2)
    assert rows(changed, "select count(distinct enricher) from article_topics") == [(1,)]
    assert rows(changed, "select count(distinct taxonomy_version) from article_enrichments") == [(1,)]
    assert rows(changed, "select count(*) from mentions") == before
    assert rows(changed, "select count(*) from articles") == [(2,)]
    assert rows(changed, "select count(distinct enricher) from article_subtopics") == [(1,)]
    assert reenrich_flow(changed).stale == 0


def test_subtopics_are_stored_and_counted_per_day(loaded: Settings) -> None:
    vote = rows(loaded, "select s.topic_id, s.level2_label, s.rank from article_subtopics s join articles a "
                        "using (article_id) where a.title like 'Portugal votes%' order by s.rank")
    assert vote[0] == ("politics", "election", 1)
    [(lowest,)] = rows(loaded, "select min(score) from article_subtopics")
    assert lowest >= loaded.topics.subtopic_min_score
    under_stored_topics = rows(loaded, "select count(*) from article_subtopics s join article_topics t "
                                       "using (article_id, topic_id, enricher)")
    assert under_stored_topics == rows(loaded, "select count(*) from article_subtopics")
    election = rows(loaded, "select distinct articles, stories from subtopic_trends where level2_label = 'election'")
    assert election == [(1, 1)]  # the Portuguese vote, under each of its election subtopics


def test_a_new_topic_head_makes_every_article_stale(loaded: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert count_stale(loaded).stale == 0
    monkeypatch.setattr(topics, "load_head", lambda: replace(load_head(), version="retrained"))
    assert count_stale(loaded).stale == 2


def test_an_alias_correction_undoes_a_merge_on_reenrich(loaded: Settings, tmp_path: Path) -> None:
    assert rows(loaded, "select entity_type, country_code from entities where name = 'Lisbon'") == [("place", "PT")]
    corrections = tmp_path / "aliases.toml"
    corrections.write_text('[[aliases]]\nalias = "LISBON"\nname = "Lisbon City Council"\n'
                           'entity_type = "organization"\n', encoding="utf-8")
    fixed = loaded.model_copy(update={"entities": loaded.entities.model_copy(update={"aliases_file": corrections})})
    assert reenrich_flow(fixed).stale == 2
    moved = rows(fixed, "select e.entity_type, count(*) from mentions m join entities e using (entity_id) "
                        "where m.surface = 'Lisbon' group by all")
    assert moved == [("organization", 2)]  # in the title and in the text
    evidence = rows(fixed, "select alias, mentions from entity_alias_evidence where name = 'Lisbon City Council'")
    assert evidence == [("Lisbon", 2)]
    assert rows(fixed, "select count(*) from entities where name = 'Lisbon'") == [(0,)]  # no orphan left
    assert rows(fixed, "select count(*) from entities where entity_id not in (select entity_id from mentions)") \
        == [(0,)]


def test_place_mentions_view_maps_places(loaded: Settings) -> None:
    places = rows(loaded, "select name, country_code, latitude is not null, articles from place_mentions "
                          "where name in ('Lisbon', 'Portugal') order by name")
    assert places == [("Lisbon", "PT", True, 1), ("Portugal", "PT", True, 1)]


def test_reenrich_runs_are_named_like_ingest_runs(loaded: Settings) -> None:
    from prefect.client.orchestration import get_client

    state = reenrich_flow(loaded, return_state=True)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
    assert flow_run.name == f"reenrich {loaded.warehouse.path.name}"
