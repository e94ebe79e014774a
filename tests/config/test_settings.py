"""Settings precedence (defaults < user TOML < environment < overrides), sources and taxonomy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.config import ConfigError, load_settings, load_sources, load_taxonomy
from broadsheet.config.settings import DEFAULT_SOURCES_FILE, DEFAULT_TOPICS_FILE


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BROADSHEET_HTTP__TIMEOUT_SECONDS", "BROADSHEET_CONFIG", "BROADSHEET_PIPELINE__BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./broadsheet.toml unless a test writes one


def test_embedded_defaults() -> None:
    settings = load_settings()
    assert settings.http.timeout_seconds == 20.0
    assert settings.http.allow_private_addresses is False
    assert settings.warehouse.path == Path("data/broadsheet.duckdb")
    assert settings.pipeline.batch_size == 100


def test_user_toml_overrides_defaults(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text("[http]\ntimeout_seconds = 7.5\n[pipeline]\nbatch_size = 9\n")
    settings = load_settings(config)
    assert settings.http.timeout_seconds == 7.5
    assert settings.pipeline.batch_size == 9
    assert settings.http.max_redirects == 10  # untouched fields keep their defaults


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mine.toml"
    config.write_text("[http]\ntimeout_seconds = 7.5\n")
    monkeypatch.setenv("BROADSHEET_HTTP__TIMEOUT_SECONDS", "3")
    assert load_settings(config).http.timeout_seconds == 3.0


def test_explicit_overrides_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_PIPELINE__BATCH_SIZE", "11")
    assert load_settings().pipeline.batch_size == 11
    assert load_settings(pipeline={"batch_size": 4}).pipeline.batch_size == 4


def test_config_found_in_working_directory_and_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broadsheet.toml").write_text("[http]\nconcurrency = 3\n")
    assert load_settings().http.concurrency == 3
    other = tmp_path / "other.toml"
    other.write_text("[http]\nconcurrency = 5\n")
    monkeypatch.setenv("BROADSHEET_CONFIG", str(other))
    assert load_settings().http.concurrency == 5


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("[http]\ntimeout_seconds = -1\n", "timeout_seconds"),
        ("[http]\nno_such_setting = 1\n", "no_such_setting"),
        ("[pipeline]\nbatch_size = 0\n", "batch_size"),
        ("[http\n", "cannot read settings"),
    ],
)
def test_invalid_settings_are_config_errors(tmp_path: Path, text: str, phrase: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=phrase):
        load_settings(config)


def test_invalid_environment_value_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADSHEET_HTTP__TIMEOUT_SECONDS", "soon")
    with pytest.raises(ConfigError, match="timeout_seconds"):
        load_settings()


def test_default_sources_file_declares_nothing() -> None:
    assert load_sources(DEFAULT_SOURCES_FILE) == []


def test_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "a"\nlocation = "https://example.org/rss"\nkind = "feed"\n'
                    'schedule = "*/30 * * * *"\n[[sources]]\nname = "b"\nlocation = "/srv/pages"\n')
    first, second = load_sources(path)
    assert (first.name, first.kind, first.schedule) == ("a", "feed", "*/30 * * * *")
    assert (second.kind, second.enabled) == ("auto", True)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('[[sources]]\nname = "a"\nlocation = "x"\n[[sources]]\nname = "a"\nlocation = "y"\n', "repeated: a"),
        ('[[sources]]\nname = "a"\nlocation = "x"\nkind = "podcast"\n', "invalid source"),
        ("[[sources]\n", "not valid TOML"),
        ('sources = "https://example.org/rss"\n', "must be a list of \\[\\[sources\\]\\] tables"),
    ],
)
def test_bad_sources_files(tmp_path: Path, text: str, phrase: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=phrase):
        load_sources(path)


def test_a_sources_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_bytes('[[sources]]\nname = "Le Monde à la une"\nlocation = "x"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"is not UTF-8 .*save it as UTF-8"):  # was a UnicodeDecodeError traceback
        load_sources(path)


def test_an_unknown_environment_section_is_warned_of(monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("BROADSHEET_HTPP__TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("BROADSHEET_HTTP__TIMEOUT_SECONDS", "4")
    with caplog.at_level("WARNING"):
        settings = load_settings()
    assert settings.http.timeout_seconds == 4.0
    assert [r.getMessage().split(":")[0] for r in caplog.records if "BROADSHEET_" in r.getMessage()] == [
        "ignoring BROADSHEET_HTPP__TIMEOUT_SECONDS"]


def test_default_taxonomy_is_the_17_iptc_topics() -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    assert len(taxonomy.topics) == 17
    assert {t.iptc_code for t in taxonomy.topics} >= {"11000000", "15000000", "04000000"}
    assert all(t.description for t in taxonomy.topics)


def test_taxonomy_version_changes_with_any_edit(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text('[[topics]]\nid = "a"\nlabel = "A"\ndescription = "about a"\n')
    before = load_taxonomy(path).version
    path.write_text('[[topics]]\nid = "a"\nlabel = "A"\ndescription = "about a"\nkeywords = ["x"]\n')
    after = load_taxonomy(path)
    assert before != after.version
    assert after.prototypes() == [["A: about a", "A: x"]]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("", "no \\[\\[topics\\]\\]"), ('[[topics]]\nid = "Bad Id"\nlabel = "x"\ndescription = "y"\n', "invalid topic"),
     ('[[topics]]\nid = "a"\nlabel = "x"\ndescription = "y"\n' * 2, "unique")],
)
def test_bad_taxonomies(tmp_path: Path, text: str, phrase: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=phrase):
        load_taxonomy(path)

