"""The language gate: short and tabular English is English or unknown, never another language; prose in
other languages is still told apart. Every text here was written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadsheet.config.records import Article
from broadsheet.config.settings import Settings
from broadsheet.tasks.enrich.entities import tag_entities
from broadsheet.tasks.extract.language import detect_language, words_of

STANDINGS = """Standings after Saturday's games (played, won, drawn, lost, goals, points):
Riverside Rovers 12 9 2 1 28 11 29
Northgate Albion 12 8 2 2 24 12 26
Harbour City 12 7 1 4 19 15 22
Kingsbridge Town 12 3 3 6 13 20 12
"""
NAMES = "Delegates: Anna Kowalczyk, Pieter van Dijk, Jan de Vries, Maarten Bos, Sanne Jansen, Tom Hendriks."
RESULTS = "Results: Oakham 2 Felbridge 1; Lindholm 0 Westmoor 3; Ashcombe 1 Brennan Park 1."
HEADLINE = "Markets steady ahead of rate decision"
ENGLISH = ("The city council approved the new budget on Tuesday after a long debate about road repairs, "
           "school funding and the cost of running the library service for another year.")
GERMAN = ("Der Stadtrat hat am Dienstag nach einer langen Debatte über Straßenreparaturen und die Finanzierung "
          "der Schulen den neuen Haushalt beschlossen.")
FRENCH = ("Le conseil municipal a adopté mardi le nouveau budget après un long débat sur la réparation des routes "
          "et le financement des écoles.")


@pytest.mark.parametrize("text", [STANDINGS, NAMES, RESULTS, HEADLINE])
def test_short_and_tabular_english_is_english_or_unknown(text: str) -> None:
    assert detect_language(text) in ("en", None)


def test_english_prose_is_english() -> None:
    assert detect_language(ENGLISH) == "en"


@pytest.mark.parametrize(("text", "code"), [(GERMAN, "de"), (FRENCH, "fr")])
def test_other_languages_are_still_told_apart(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_too_few_words_is_unknown() -> None:
    assert detect_language("1996-08-30 | 3 - 1 | 45,000") is None
    assert detect_language("Riverside 3 Northgate 1") is None


def test_a_language_outside_the_candidates_is_never_the_answer() -> None:
    assert detect_language(GERMAN, candidates=("en", "fr")) in ("en", "fr", None)
    assert detect_language(GERMAN, candidates=("en", "fr"), min_confidence=0.99) is None


def test_only_words_are_judged() -> None:
    assert words_of("Rovers 12 9 2 | Albion 12-8") == "Rovers Albion"


def test_a_results_table_of_unknown_language_is_still_tagged(settings: Settings) -> None:
    text = "Results: Oakham 2 Felbridge 1; Lindholm 0 Westmoor 3.\nScorers: Maria Okafor 12, Ben Tully 40."
    language = detect_language(text)
    assert language in ("en", None)
    found = Article("a1", "https://x.example/a", "https://x.example/a", "test", None, (), None, language, None,
                    text, "h", datetime(2026, 1, 1, tzinfo=UTC), "test")
    [(entities, _, _)] = tag_entities([found], settings.entities)
    assert "Maria Okafor" in {e.name for e in entities}
