"""Re-extraction: stored pages are extracted again (no fetch) when the extractor or the URL rules change,
only for stale articles, and old article keys stay joinable to the new ones."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from helpers import DAY, FLOOD, WIRE, article_html, enrichment, load, rows

from broadsheet.config.records import Article, Batch, Page
from broadsheet.config.settings import Settings
from broadsheet.config.sources import SourceConfig, settings_for_source
from broadsheet.flows.cli import main
from broadsheet.flows.reextract import reextract_flow
from broadsheet.tasks.extract import extract_article, extractor_version
from broadsheet.tasks.extract.identity import article_id, content_hash
from broadsheet.warehouse.connection import connected
from broadsheet.warehouse.runs import known_article_ids

pytestmark = pytest.mark.usefixtures("prefect_harness")

OLD_EXTRACTOR = "trafilatura@2.3.1"  # what articles.extractor held before extractor versions had settings and rules
# Keyed as before canonical URLs were normalised (RFC 3986 dot segments, session parameters): the URL as it came.
SESSION_URL = "https://coast.example/news/2026/../harbour-floods.html?PHPSESSID=9f3c2a"
WIRE_URL = "https://coast.example/economy/rates.html"


def page(url: str, title: str, text: str) -> Page:
    return Page(url, url, "coast", article_html(title, text).encode(), "text/html", DAY)


def as_stored(new: Article, canonical: str, *, text: str | None = None) -> Article:
    """``new`` as an older broadsheet stored it: keyed by ``canonical``, made by the old extractor."""
    text = text if text is not None else new.text
    digest = content_hash(text)
    return replace(new, article_id=article_id(canonical, digest), canonical_url=canonical, text=text,
                   content_hash=digest, extractor=OLD_EXTRACTOR)


@pytest.fixture
def old_warehouse(settings: Settings) -> dict[str, Article]:
    """A warehouse built by an older broadsheet: old canonical URLs, old extractor, enrichment rows."""
    flood_page = page(SESSION_URL, "Harbour floods", FLOOD)
    wire_page = page(WIRE_URL, "Bank raises rates", WIRE)
    flood_new = extract_article(flood_page, settings.extract)
    wire_new = extract_article(wire_page, settings.extract)
    stored = {
        "flood": as_stored(flood_new, SESSION_URL),  # same text, old key: only the key changes
        "wire": as_stored(wire_new, WIRE_URL, text="An older extractor kept the menu. " + wire_new.text),
    }
    current = replace(extract_article(page("https://coast.example/sport/race.html", "Race", WIRE + " Sport."),
                                      settings.extract))
    items = [*stored.values(), current]
    load(settings.warehouse, Batch(items, [enrichment(a) for a in items],
                                   [flood_page, wire_page, page(current.url, "Race", WIRE + " Sport.")]))
    stored["current"] = current
    return stored


def test_reextract_rekeys_old_canonical_urls_and_keeps_them_joinable(old_warehouse: dict[str, Article],
                                                                      settings: Settings) -> None:
    flood = old_warehouse["flood"]
    mentions_before = rows(settings, f"select entity_id, salience from article_entities "
                                     f"where article_id = '{flood.article_id}'")
    assert reextract_flow(settings, dry_run=True).stale == 2  # the third was made by the current extractor

    summary = reextract_flow(settings)

    assert (summary.stale, summary.extracted, summary.rekeyed, summary.rejected) == (2, 2, 2, 0)
    new_flood = article_id("https://coast.example/news/harbour-floods.html", flood.content_hash)
    assert rows(settings, "select old_article_id, new_article_id, new_canonical_url from article_key_changes "
                          f"where old_article_id = '{flood.article_id}'") == [
        (flood.article_id, new_flood, "https://coast.example/news/harbour-floods.html")]
    # the text did not change: its enrichment moved to the new id, nothing was enriched again for it
    assert rows(settings, f"select entity_id, salience from article_entities where article_id = '{new_flood}'") \
        == mentions_before
    assert rows(settings, "select count(*) from articles") == [(3,)]
    assert rows(settings, f"select count(*) from article_entities where article_id = '{flood.article_id}'") == [(0,)]
    assert rows(settings, "select count(*) from article_clusters where article_id not in "
                          "(select article_id from articles)") == [(0,)]
    extractors = rows(settings, "select distinct extractor from articles")
    assert extractors == [(extractor_version(settings.extract),)]
    # re-ingesting the same page now finds its article: nothing is added
    again = extract_article(page(SESSION_URL, "Harbour floods", FLOOD), settings.extract)
    with connected(settings.warehouse, reader=True) as conn:
        assert known_article_ids(conn, [again.article_id]) == {again.article_id}
    assert reextract_flow(settings).stale == 0


def test_reextract_enriches_again_only_what_changed(old_warehouse: dict[str, Article], settings: Settings) -> None:
    wire, current = old_warehouse["wire"], old_warehouse["current"]
    summary = reextract_flow(settings)
    assert summary.reenriched == 1  # the wire story's text changed; the flood story's did not
    [(new_wire, text)] = rows(settings, "select article_id, text from articles where canonical_url = "
                                        f"'{WIRE_URL}'")
    assert new_wire != wire.article_id and not text.startswith("An older extractor")
    enrichers = rows(settings, f"select entity_enricher from article_enrichments where article_id = '{new_wire}'")
    assert enrichers and enrichers[0][0] != "ner@1"  # enriched by the current enricher, not carried over
    # the article made by the current extractor was left alone, enrichment and all
    assert rows(settings, f"select entity_enricher from article_enrichments "
                          f"where article_id = '{current.article_id}'") == [("ner@1",)]


def test_changing_an_extract_setting_makes_articles_stale(old_warehouse: dict[str, Article],
                                                          settings: Settings) -> None:
    reextract_flow(settings)
    tables_off = settings.model_copy(update={"extract": settings.extract.model_copy(
        update={"include_tables": False})})
    assert reextract_flow(tables_off, dry_run=True).stale == 3
    shorter = settings.model_copy(update={"extract": settings.extract.model_copy(update={"min_text_chars": 50})})
    assert reextract_flow(shorter, dry_run=True).stale == 0


def test_the_reextract_command_counts_and_redoes(old_warehouse: dict[str, Article], settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str) -> dict:
        monkeypatch.setattr("sys.argv", ["broadsheet", "reextract", *args, "--json",
                                         "--db", str(settings.warehouse.path)])
        with pytest.raises(SystemExit) as caught:
            main()
        assert caught.value.code in (0, None)
        return json.loads(capsys.readouterr().out)

    assert cli("--dry-run")["stale"] == 2
    done = cli("--limit", "1")
    assert (done["stale"], done["extracted"]) == (1, 1)
    assert cli("--dry-run")["stale"] == 1


def test_a_sources_own_extract_settings_make_its_extractor(old_warehouse: dict[str, Article],
                                                          settings: Settings) -> None:
    coast = SourceConfig(name="coast", location="https://coast.example/feed.xml", extract={"include_tables": False})
    assert reextract_flow(settings, dry_run=True, sources=[coast]).stale == 3  # its own settings, not the global ones
    reextract_flow(settings, sources=[coast])
    own = extractor_version(settings_for_source(settings, coast).extract)
    assert rows(settings, "select distinct extractor from articles") == [(own,)]
    assert reextract_flow(settings, dry_run=True, sources=[coast]).stale == 0
    assert reextract_flow(settings, dry_run=True).stale == 3  # without the source's overrides all are stale
