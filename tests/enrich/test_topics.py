"""Topic scoring against a taxonomy a user edits: their own topic, its examples, the multi-label threshold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadsheet.config.errors import ConfigError
from broadsheet.config.records import Article
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, Settings
from broadsheet.config.taxonomy import load_taxonomy
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


def test_a_topic_added_by_the_user_is_scored(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(DEFAULT_TOPICS_FILE.read_text(encoding="utf-8") + TRANSPORT, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert len(taxonomy.topics) == 18 and taxonomy.version != load_taxonomy(DEFAULT_TOPICS_FILE).version
    tram = article("New tram line for Lisbon", "Commuters will ride a new tram line from the airport to the old "
                                               "town from 2028, and two bus routes will be changed to meet it.")
    [scores] = score_topics([tram], settings.topics, taxonomy)
    assert scores[0].topic_id == "transport"
    assert enricher_name(settings.topics, taxonomy).endswith(f"taxonomy:{taxonomy.version}")


def test_kept_topics_pass_the_threshold(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    strict = settings.topics.model_copy(update={"min_score": 0.99, "top_k": 5})
    loose = settings.topics.model_copy(update={"min_score": -1.0, "top_k": 5})
    text = article("Minister resigns over hospital waiting lists", "The health minister resigned after "
                   "hospital waiting lists grew, and the opposition called for an election.")
    [strict_scores] = score_topics([text], strict, taxonomy)
    [loose_scores] = score_topics([text], loose, taxonomy)
    assert len(strict_scores) == 1 and len(loose_scores) == 5  # the best topic is always kept
    assert {t.topic_id for t in loose_scores[:2]} & {"politics", "health"}


def test_a_taxonomy_without_topics_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no"):
        load_taxonomy(path)
