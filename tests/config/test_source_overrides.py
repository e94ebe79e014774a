"""Per-source overrides in sources.toml: validated on load, applied to that source's batches only."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from broadsheet.config import ConfigError, load_sources
from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig, settings_for_source
from broadsheet.flows.demo import CORPUS_DIR


def test_overrides_are_read_and_applied(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "slow"\nlocation = "https://slow.example/rss"\n'
                    '[sources.http]\nhost_delay_seconds = 5.0\nuser_agent = "polite-bot/1"\n'
                    '[sources.pipeline]\nbatch_size = 7\n')
    [source] = load_sources(path)
    own = settings_for_source(settings, source)
    assert (own.http.host_delay_seconds, own.http.user_agent, own.pipeline.batch_size) == (5.0, "polite-bot/1", 7)
    assert own.http.timeout_seconds == settings.http.timeout_seconds  # the rest is inherited
    assert settings_for_source(settings, SourceConfig(name="plain", location="/x")) is settings


@pytest.mark.parametrize(("table", "phrase"), [("[sources.http]\nno_such = 1\n", "unknown \\[http\\] setting"),
                                               ("[sources.extract]\nmin_text_chars = 0\n", "min_text_chars"),
                                               ("[sources.topics]\ntop_k = 2\n", "invalid source")])
def test_bad_overrides_are_config_errors(tmp_path: Path, table: str, phrase: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[sources]]\nname = "a"\nlocation = "/x"\n{table}')
    with pytest.raises(ConfigError, match=phrase):
        load_sources(path)


@pytest.mark.usefixtures("prefect_harness")
def test_an_override_applies_to_its_own_source_only(settings: Settings, tmp_path: Path) -> None:
    from broadsheet.flows.ingest import ingest_flow

    strict = SourceConfig(name="strict", location=str(CORPUS_DIR), extract={"min_text_chars": 100_000})
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "marathon.html").write_bytes((CORPUS_DIR / "harbour-city-marathon.html").read_bytes())
    lenient = SourceConfig(name="lenient", location=str(copy))
    summary = ingest_flow([strict, lenient], settings)
    assert summary.counts.loaded == 1
    conn = duckdb.connect(str(settings.warehouse.path), read_only=True)
    try:
        assert conn.execute("select source_id from articles").fetchall() == [("lenient",)]
        no_text = conn.execute("select count(*) from rejections where source_id = 'strict' and "
                               "error_type = 'no_text'").fetchone()
    finally:
        conn.close()
    assert no_text == (6,)  # the five articles and the empty page are all too short for this source
