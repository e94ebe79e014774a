"""Each entity resolution rule on a short text written for it, the gazetteer, keyphrases, and the sample."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from broadsheet.config.entity_aliases import load_alias_corrections
from broadsheet.config.errors import ConfigError
from broadsheet.config.records import Article, Candidate, Enrichment, EntityType
from broadsheet.config.settings import Settings, load_settings
from broadsheet.flows.demo import CORPUS_DIR as CORPUS
from broadsheet.tasks.enrich import gazetteer
from broadsheet.tasks.enrich.enrichers import enrich_articles
from broadsheet.tasks.enrich.entities import entity_key, normalize_name, tag_entities
from broadsheet.tasks.enrich.gazetteer import lookup_place
from broadsheet.tasks.enrich.resolve import Cluster, Span, find_acronyms
from broadsheet.tasks.extract.article import extract_article
from broadsheet.tasks.fetch.documents import file_url, read_local


def article(text: str, title: str | None = None, article_id: str = "a1") -> Article:
    return Article(article_id, "https://x.example/a", "https://x.example/a", "test", title, (), None, "en", None,
                   text, "h", datetime(2026, 1, 1, tzinfo=UTC), "test")


def entities_of(settings: Settings, text: str, title: str | None = None) -> dict[str, tuple[str, list[str]]]:
    """name → (type, surfaces of its mentions)."""
    [(found, mentions, _)] = tag_entities([article(text, title)], settings.entities)
    return {e.name: (e.entity_type, [m.surface for m in mentions if m.entity_id == e.entity_id]) for e in found}


@pytest.mark.parametrize(("surface", "name"), [("U.S.", "U.S."), ("the U.N.", "U.N."), ("Sen. Tillis", "Tillis"),
                                               ("a Conservative Party", "Conservative Party"), ("Blunt's", "Blunt")])
def test_names_keep_abbreviation_dots_and_drop_titles(surface: str, name: str) -> None:
    assert normalize_name(surface) == name


def test_keys_ignore_case_accents_and_dots() -> None:
    assert entity_key("U.N.") == entity_key("UN") == "un"
    assert entity_key("Sinn Féin") == entity_key("SINN FEIN")


def test_later_short_forms_join_the_full_name(settings: Settings) -> None:
    found = entities_of(settings, "Sen. Thom Tillis spoke in Raleigh on Monday. Later, Sen. Tillis said the "
                                  "bill would pass. Maryam Rajavi was there too, and Rajavi agreed with Tillis.")
    assert found["Thom Tillis"][0] == "person"
    assert found["Thom Tillis"][1].count("Tillis") >= 2
    assert found["Maryam Rajavi"][0] == "person" and "Rajavi" in found["Maryam Rajavi"][1]
    assert "Tillis" not in found and "Rajavi" not in found


def test_defined_acronyms_join_their_expansion(settings: Settings) -> None:
    text = ("The Islamic Revolutionary Guard Corps (IRGC) said on Tuesday that it had moved troops. "
            "The IRGC is the country's most powerful military force, and the IRGC answers to the leader.")
    found = entities_of(settings, text)
    corps = found["Islamic Revolutionary Guard Corps"]
    assert corps[0] == "organization"
    assert corps[1].count("IRGC") == 3
    assert "IRGC" not in found


def test_find_acronyms_checks_initials() -> None:
    text = "members of the Mojahedin-e-Khalq (MEK) and of the National Health Service (NHS), not (XYZ)"
    assert [(a, text[s:e]) for a, s, e in find_acronyms(text)] == [
        ("MEK", "Mojahedin-e-Khalq"), ("NHS", "National Health Service")]


def test_one_entity_one_type(settings: Settings) -> None:
    found = entities_of(settings, "Iran said on Monday it would resume talks. Officials in Iran and in "
                                  "Iraq met in Baghdad. Iran's envoy flew home.")
    assert found["Iran"][0] == "place"
    assert found["Iran"][1].count("Iran") == 3


def test_unknown_acronyms_are_not_places(settings: Settings) -> None:
    found = entities_of(settings, "Officials expelled the IRGC from Syria, and the IRGC denied it.")
    assert found.get("IRGC", ("organization", []))[0] != "place"


def test_titles_are_not_part_of_names(settings: Settings) -> None:
    found = entities_of(settings, "President Emmanuel Macron met Prime Minister Edi Rama in Paris on Friday.")
    assert {"Emmanuel Macron", "Edi Rama"} <= set(found)


def test_shouting_lines_only_join_known_entities(settings: Settings) -> None:
    text = ("MARKETS RALLY AS TRADERS CHEER GOOD NEWS\nLONDON 1996-08-22\n"
            "Shares rose in London on Thursday as traders bought banks.")
    found = entities_of(settings, text)
    assert found["London"][0] == "place"
    assert "LONDON" in found["London"][1]
    assert not any(name.isupper() and len(name) > 8 for name in found)


def test_organisation_names_are_not_cut(settings: Settings) -> None:
    found = entities_of(settings, "The Social Democratic and Labour Party and the Communist Party of Greece "
                                  "sent delegates to the conference in Athens.")
    assert "Communist Party of Greece" in found
    assert "Social Democratic and Labour Party" in found


def test_places_carry_country_codes_and_coordinates(settings: Settings) -> None:
    [(found, _, _)] = tag_entities([article("Senators flew to Tirana, the capital of Albania, from the U.S. "
                                            "on Saturday. The US embassy in the United States capital agreed.")],
                                   settings.entities)
    places = {e.name: e for e in found if e.entity_type == "place"}
    assert places["Tirana"].country_code == "AL"
    assert places["Tirana"].latitude == pytest.approx(41.33, abs=0.1)
    assert places["Albania"].country_code == "AL"
    us = [e for e in found if e.country_code == "US" and e.gazetteer_id == "country:US"]
    assert len(us) == 1 and us[0].name == "United States"


def test_same_country_is_one_entity_across_articles(settings: Settings) -> None:
    results = tag_entities([article("Talks in the U.S. went on for days with officials."),
                            article("The United States said the talks would go on."),
                            article("Officials in the US said little about the talks.")], settings.entities)
    ids = {e.entity_id for found, _, _ in results for e in found if e.entity_type == "place"}
    assert len(ids) == 1


def test_gazetteer_lookups() -> None:
    assert lookup_place("Tirana").country_code == "AL"  # type: ignore[union-attr]
    assert lookup_place("Britain").gazetteer_id == "country:GB"  # type: ignore[union-attr]
    assert lookup_place("IRGC") is None


def test_gazetteer_is_cached_read_back_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    gazetteer._tables.cache_clear()
    try:
        built = gazetteer._tables()
        cached = gazetteer.cache_file()
        assert cached.parent == tmp_path / "broadsheet" / "gazetteer" and cached.exists()

        def no_build() -> dict:
            raise AssertionError("built again although cached")

        gazetteer._tables.cache_clear()
        with monkeypatch.context() as patch:
            for builder in ("_countries", "_states", "_cities"):
                patch.setattr(gazetteer, builder, no_build)
            assert gazetteer._tables() == built  # read back from the file: equal places, not rebuilt

        cached.write_text('{"not": "a gazetteer"}')
        gazetteer._tables.cache_clear()
        assert gazetteer._tables() == built and gazetteer._decode(orjson.loads(cached.read_bytes())) == built

        monkeypatch.setenv("XDG_CACHE_HOME", str(cached))  # a file: no cache folder can be made under it
        gazetteer._tables.cache_clear()
        assert gazetteer._tables() == built
    finally:
        gazetteer._tables.cache_clear()


def test_salience_and_keyphrases(settings: Settings) -> None:
    text = ("Angela Merkel visited a wind farm near Hamburg on Monday.\n"
            "The wind farm supplies power to 40,000 homes. Merkel praised the wind farm and its engineers.")
    [enrichment] = enrich_articles([article(text, "Merkel visits wind farm")], settings)
    merkel = next(e for e in enrichment.entities if e.name == "Angela Merkel")
    salience = next(s for s in enrichment.salience if s.entity_id == merkel.entity_id)
    assert (salience.in_title, salience.in_lead, salience.mentions) == (True, True, 2)
    assert enrichment.salience[0].entity_id == merkel.entity_id
    assert enrichment.keyphrases[0].phrase == "wind farm" and enrichment.keyphrases[0].score == 1.0
    assert len(enrichment.keyphrases) <= settings.topics.keyphrases


@pytest.fixture(scope="module")
def sample() -> Enrichment:
    settings = load_settings()
    page = read_local(Candidate(file_url(CORPUS / "us-senators-meet-mek-leader-in-tirana.html"), "demo"), 10**7)
    [enrichment] = enrich_articles([extract_article(page, settings.extract)], settings)
    return enrichment


def test_sample_article_resolution(sample: Enrichment) -> None:
    by_name = {e.name: e for e in sample.entities}
    surfaces = {name: {m.surface for m in sample.mentions if m.entity_id == e.entity_id}
                for name, e in by_name.items()}
    assert by_name["Tirana"].country_code == "AL"
    assert by_name["Mojahedin-e-Khalq"].entity_type == "organization"
    assert "MEK" in surfaces["Mojahedin-e-Khalq"]
    assert "Meet MEK Leader" not in by_name
    assert "Blunt" in surfaces["Roy Blunt"] and "Rajavi" in surfaces["Maryam Rajavi"]
    assert by_name["Majid Takht-e-Ravanchi"].entity_type == "person"
    assert "Majid Takht" not in by_name


@pytest.mark.parametrize(("text", "name"), [
    ("Police said on Monday that Interfax news agency had reported the raid.", "Interfax"),
    ("Lithuania beat Romania 2-0 on Friday in Vilnius.", "Lithuania"),
    ("J. Ratcliffe 63 and the others were out before lunch.", "J. Ratcliffe"),
])
def test_spans_that_run_on_are_cut_back(settings: Settings, text: str, name: str) -> None:
    found = entities_of(settings, text)
    assert name in found
    assert not any(other.startswith(name) and other != name for other in found)


def test_datelines_are_places(settings: Settings) -> None:
    found = entities_of(settings, "BELGRADE 1996-08-22\nThe government said talks would resume next week.")
    assert found["Belgrade"] == ("place", ["BELGRADE"])  # the gazetteer's name, the text's surface


def test_places_heading_standings_are_teams(settings: Settings) -> None:
    text = ("Results of Major League games on Tuesday.\nNEW YORK 72 58 .554 -\nBoston 69 61 .531 3\n"
            "New York is the only team above .550 this season.")
    found = entities_of(settings, text)
    [new_york] = [kind for kind, surfaces in found.values() if "NEW YORK" in surfaces]
    assert new_york == "organization"  # one entity, one type: the team, in standings and prose alike
    assert found["Boston"][0] == "organization"


def test_alias_corrections_load_and_reject_bad_entries(tmp_path: Path) -> None:
    good = tmp_path / "aliases.toml"
    good.write_text('[[aliases]]\nalias = "Georgia"\nname = "Georgia (U.S. state)"\nentity_type = "place"\n'
                    'country_code = "US"\n', encoding="utf-8")
    loaded = load_alias_corrections(good)
    assert [c.name for c in loaded.corrections] == ["Georgia (U.S. state)"] and len(loaded.version) == 8
    assert load_alias_corrections(None).version == ""
    bad = tmp_path / "bad.toml"
    bad.write_text('[[aliases]]\nalias = "Georgia"\nname = "Georgia"\nentity_type = "state"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid \[\[aliases\]\] entry"):
        load_alias_corrections(bad)
    with pytest.raises(ConfigError, match=r"cannot read entities\.aliases_file"):
        load_alias_corrections(tmp_path / "missing.toml")


def test_alias_corrections_decide_the_entity(settings: Settings, tmp_path: Path) -> None:
    corrections = tmp_path / "aliases.toml"
    corrections.write_text('[[aliases]]\nalias = "Georgia"\nname = "Georgia (U.S. state)"\nentity_type = "place"\n'
                           'country_code = "US"\n', encoding="utf-8")
    fixed = settings.entities.model_copy(update={"aliases_file": corrections})
    [(found, _, _)] = tag_entities([article("Voters in Georgia went to the polls on Tuesday in Atlanta.")], fixed)
    georgia = next(e for e in found if e.name.startswith("Georgia"))
    assert (georgia.name, georgia.entity_type, georgia.country_code) == ("Georgia (U.S. state)", "place", "US")


def test_institutions_named_by_a_common_noun_alone_are_not_entities(settings: Settings) -> None:
    found = entities_of(settings, "The Senate passed the bill on Monday, and Parliament in London debated it "
                                  "while the European Parliament met in Strasbourg.")
    assert "Senate" not in found and "Parliament" not in found
    assert "European Parliament" in found


def test_an_organisation_shortened_to_its_first_word_is_one_entity(settings: Settings) -> None:
    found = entities_of(settings, "Shares of Veridian Semiconductor rose 8 percent on Thursday after the company "
                                  "beat forecasts. Veridian said demand for its chips would keep growing, and "
                                  "Veridian expects record sales next year.")
    assert found["Veridian Semiconductor"][0] == "organization"
    assert found["Veridian Semiconductor"][1].count("Veridian") == 2
    assert "Veridian" not in found


def test_a_place_that_starts_an_organisation_name_stays_a_place(settings: Settings) -> None:
    found = entities_of(settings, "Manchester United lost 2-1 at home on Saturday. Fans in Manchester were "
                                  "furious, and Manchester United's manager apologised.")
    assert found["Manchester"][0] == "place"
    assert found["Manchester United"][0] == "organization"


def test_a_learned_mention_votes_with_its_belief_split_over_the_types() -> None:
    def mention(start: int, label: EntityType, shares: tuple[float, ...] | None) -> Span:
        return Span("Fort Alder", "fort alder", label, start, start + 10, False, "Fort Alder", shares=shares)

    # One mention says organisation and one place: as labels a tie, which goes to organisation; as the
    # tagger's beliefs, organisation 0.55 + 0.05 against place 0.45 + 0.95.
    believed = Cluster([mention(0, "organization", (0.0, 0.55, 0.45)), mention(40, "place", (0.0, 0.05, 0.95))])
    assert believed.entity_type() == "place"
    labelled = Cluster([replace(span, shares=None) for span in believed.spans])
    assert labelled.entity_type() == "organization"
