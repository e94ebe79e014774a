"""Topic scoring: the trained head's calibrated probabilities (from the lead vector and the words), a user's own
zero-shot topic, subtopics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from broadsheet.config.errors import ConfigError
from broadsheet.config.records import Article
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, Settings
from broadsheet.config.taxonomy import load_taxonomy
from broadsheet.tasks.enrich import topics
from broadsheet.tasks.enrich.topic_head import Lexicon, head_text, load_head
from broadsheet.tasks.enrich.topics import enricher_name, score_topics

TRANSPORT = '''
[[topics]]
id = "transport"
label = "transport"
description = "Trams, trains, buses, airports, roads and public transport networks."
keywords = ["tram", "railway", "bus route", "airport", "commuters"]
examples = ["The city will open a new tram line linking the airport with the centre."]
'''


def article(title: str, text: str) -> Article:
    return Article("a1", "https://x.example/a", "https://x.example/a", "test", title, (), None, "en", None,
                   text, "h", datetime(2026, 1, 1, tzinfo=UTC), "test")


STRIKE = article("Car workers strike over pay", "Thousands of workers at the car maker's plants walked out on "
                 "Monday after the union rejected a 3% pay offer, halting production and hitting the company's "
                 "shares, which fell 4% as investors feared a long dispute.")
WILDFIRE = article("Wildfire forces thousands to flee", "A wildfire driven by strong winds burned through 20,000 "
                   "hectares of forest overnight, and firefighters evacuated three villages as the blaze spread.")


def test_trained_topics_are_scored_by_the_head_as_probabilities(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    head = load_head()
    assert all(topics.is_trained(t, head) for t in taxonomy.topics)
    vectors = np.random.default_rng(0).normal(size=(50, head.weights.shape[1] - len(head.codes)))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    scores = topics.topic_scores(vectors, ["Minister resigns"] * 25 + [""] * 25, settings.topics, taxonomy)
    assert scores.shape == (50, 17) and ((scores >= 0) & (scores <= 1)).all()


def test_calibration_keeps_the_order_of_the_head_scores() -> None:
    head = load_head()
    assert (head.calibration[:, 0] > 0).all() and head.zero_shot[0] > 0
    similarities = np.linspace(-1, 1, 201)
    zero_shot = head.zero_shot_probabilities(similarities)
    assert (np.diff(zero_shot) > 0).all() and zero_shot.min() >= 0 and zero_shot.max() <= 1


def test_a_strike_at_a_car_maker_is_economy_and_labour(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    loose = settings.topics.model_copy(update={"min_score": 0.0, "top_k": 2})
    [result] = score_topics([STRIKE], loose, taxonomy)
    assert {t.topic_id for t in result.topics} == {"labour", "economy-business-finance"}


def test_a_topic_added_by_the_user_is_scored_zero_shot(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(DEFAULT_TOPICS_FILE.read_text(encoding="utf-8") + TRANSPORT, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert len(taxonomy.topics) == 18 and taxonomy.version != load_taxonomy(DEFAULT_TOPICS_FILE).version
    assert not topics.is_trained(taxonomy.topics[-1], load_head())
    tram = article("New tram line for Lisbon", "Commuters will ride a new tram line from the airport to the old "
                                               "town from 2028, and two bus routes will be changed to meet it.")
    [result] = score_topics([tram], settings.topics, taxonomy)
    assert result.topics[0].topic_id == "transport" and 0 < result.topics[0].score <= 1
    [sport] = score_topics([article("Cup final", "The striker scored twice as the home team won the final.")],
                           settings.topics, taxonomy)
    assert sport.topics[0].topic_id == "sport"


def test_the_enricher_names_the_head_and_the_taxonomy(settings: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    name = enricher_name(settings.topics, taxonomy)
    assert f"+topic-head:{load_head().version}+" in name and name.endswith(f"taxonomy:{taxonomy.version}")
    monkeypatch.setattr(topics, "load_head", lambda: replace(load_head(), version="retrained"))
    assert enricher_name(settings.topics, taxonomy) != name


def test_kept_topics_pass_the_threshold(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    strict = settings.topics.model_copy(update={"min_score": 1.0, "top_k": 5})
    loose = settings.topics.model_copy(update={"min_score": 0.0, "top_k": 5})
    text = article("Minister resigns over hospital waiting lists", "The health minister resigned after "
                   "hospital waiting lists grew, and the opposition called for an election.")
    [strict_result] = score_topics([text], strict, taxonomy)
    [loose_result] = score_topics([text], loose, taxonomy)
    assert len(strict_result.topics) == 1 and len(loose_result.topics) == 5  # the best topic is always kept
    assert {t.topic_id for t in loose_result.topics[:2]} & {"politics", "health"}


def test_subtopics_are_iptc_topics_under_the_kept_topics(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    [result] = score_topics([WILDFIRE], settings.topics, taxonomy)
    kept = {t.topic_id for t in result.topics}
    assert result.subtopics and {s.topic_id for s in result.subtopics} <= kept
    assert "wildfire" in {s.label for s in result.subtopics}
    fire = next(s for s in result.subtopics if s.label == "wildfire")
    assert (fire.topic_id, fire.level2_label, fire.rank) == ("disaster-accident-emergency", "disaster", 1)
    assert all(s.score >= settings.topics.subtopic_min_score for s in result.subtopics)
    none = settings.topics.model_copy(update={"subtopics": 0})
    assert score_topics([WILDFIRE], none, taxonomy)[0].subtopics == ()


def test_a_taxonomy_without_topics_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no"):
        load_taxonomy(path)


def test_word_scores_are_sublinear_tf_idf_normalised_and_weighted() -> None:
    lexicon = Lexicon({"strike": 0, "union": 1, "goal": 2}, np.array([2.0, 1.5, 3.0], np.float32),
                      np.array([[1.0, 0.0, 0.0], [0.0, 2.0, -1.0]], np.float32))
    [row, empty] = lexicon.scores(["Strike! STRIKE, strike; the union's a x", "nothing known here"])
    tf_idf = np.array([(1 + np.log(3)) * 2.0, 1.0 * 1.5])  # "union's" counts as "union"; "a", "x" are too short
    tf_idf /= np.linalg.norm(tf_idf)
    assert np.allclose(row, [tf_idf[0], 2.0 * tf_idf[1]], atol=1e-6)
    assert (empty == 0).all()


def test_the_head_reads_the_words_of_the_whole_article() -> None:
    head = load_head()
    lead = np.random.default_rng(1).normal(size=(1, head.centroids.shape[1])).astype(np.float32)
    lead /= np.linalg.norm(lead)
    filler = "The statement was published on Monday. " * 60  # past the lead the vector sees
    football = head_text("Statement", filler + "The striker scored twice and the club won the league title.")
    budget = head_text("Statement", filler + "The central bank raised interest rates and shares fell.")
    sport, economy = head.codes.index("15000000"), head.codes.index("04000000")
    [with_football] = head.probabilities(lead, [football])
    [with_budget] = head.probabilities(lead, [budget])
    assert with_football[sport] > with_budget[sport] and with_budget[economy] > with_football[economy]


def test_the_head_refuses_vectors_and_texts_that_do_not_pair_up() -> None:
    head = load_head()
    vectors = np.eye(3, head.centroids.shape[1], dtype=np.float32)
    with pytest.raises(ValueError, match="one text per vector"):
        head.probabilities(vectors, ["only one text"])
