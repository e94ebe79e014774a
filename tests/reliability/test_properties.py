"""Property-based tests: random input never crashes a stage and never loses the document.

Few examples each (the suite must stay fast); hypothesis keeps the failing ones it finds in its
database, so a regression shows on the next run.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.config.records import Article, Batch, Candidate, Page, Rejection
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.sitemaps import read_sitemap_page
from broadsheet.tasks.extract.identity import canonical_url
from broadsheet.tasks.fetch.fetcher import fetch_pages
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.loading import load_staged
from broadsheet.warehouse.staging import stage_batch, staging_dir

NOW = datetime(2026, 3, 3, tzinfo=UTC)
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hosts = st.from_regex(r"(www\.|m\.|amp\.)?[a-z0-9-]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True)
paths = st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FF, exclude_characters="?#/"), max_size=8),
                 max_size=4).map(lambda parts: "/" + "/".join(parts))
queries = st.lists(st.tuples(st.sampled_from(["utm_source", "id", "amp", "fbclid", "page", "q"]),
                             st.text(st.characters(min_codepoint=0x30, max_codepoint=0x7A), max_size=6)), max_size=4)
urls = st.builds(lambda scheme, host, port, path, query, fragment: (
    f"{scheme}://{host}{port}{path}" + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
    + (f"#{fragment}" if fragment else "")),
    st.sampled_from(["http", "https", "HTTP", "Https"]), hosts, st.sampled_from(["", ":80", ":443", ":8080"]),
    paths, queries, st.text(max_size=5))
# Any text at all, lone surrogates included (a JSON feed's "\ud800" escape decodes to one).
anything = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=60)


@FEW
@given(urls)
def test_canonical_url_is_stable_and_keeps_the_scheme(url: str) -> None:
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert urlsplit(canonical).scheme == urlsplit(url).scheme.lower()
    assert "#" not in canonical and "utm_source" not in canonical


@FEW
@given(anything)
def test_canonical_url_never_raises(text: str) -> None:
    assert isinstance(canonical_url(text), str)


def _json_feed(items: list[dict]) -> Page:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()  # "\ud800" escapes
    return Page("https://n.example/feed.json", "https://n.example/feed.json", "p", body, "application/feed+json", NOW)


@FEW
@given(st.lists(st.fixed_dictionaries({"url": st.one_of(urls, anything, st.none(), st.integers(-(2**63), 2**63 - 1)),
                                       "title": st.one_of(anything, st.none()),
                                       "date_published": st.one_of(anything, st.none())}), max_size=8))
def test_every_json_feed_item_is_a_candidate_or_a_rejection(items: list[dict]) -> None:
    found = parse_feed_page(_json_feed(items))
    assert len(found.candidates) + len(found.rejections) == len(items)


@FEW
@given(st.lists(st.tuples(st.one_of(urls, anything), anything, anything), max_size=8))
def test_every_rss_item_is_a_candidate_or_a_rejection(items: list[tuple[str, str, str]]) -> None:
    def xml(text: str) -> str:  # the text as XML character data: what a feed could really hold
        text = "".join(c for c in text if c in "\t\n\r" or 0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE)
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    entries = "".join(f"<item><title>{xml(t)}</title><link>{xml(link)}</link><pubDate>{xml(d)}</pubDate></item>"
                      for link, t, d in items)
    body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
            f"{entries}</channel></rss>")
    page = Page("https://n.example/f.xml", "https://n.example/f.xml", "p", body.encode(), "application/rss+xml", NOW)
    found = parse_feed_page(page)
    assert len(found.candidates) + len(found.rejections) == len(items)


@FEW
@given(st.binary(max_size=400))
def test_random_bytes_as_a_sitemap_never_raise(content: bytes) -> None:
    page = Page("https://n.example/s.xml", "https://n.example/s.xml", "p", content, "application/xml", NOW)
    found, children = read_sitemap_page(page, 10_000)
    assert found.candidates or found.rejections or children is not None


@FEW
@given(st.lists(st.one_of(urls, anything), max_size=6))
def test_every_sitemap_url_is_a_candidate_or_a_rejection(locations: list[str]) -> None:
    def xml(text: str) -> str:
        text = "".join(c for c in text if 0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE).strip()
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    entries = "".join(f"<url><loc>{xml(loc)}</loc></url>" for loc in locations)
    body = f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{entries}</urlset>".encode()
    page = Page("https://n.example/s.xml", "https://n.example/s.xml", "p", body, "application/xml", NOW)
    found, _ = read_sitemap_page(page, 1_000_000)
    assert len(found.candidates) + len(found.rejections) == len(locations)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(paths, anything.filter(lambda s: "://" not in s)), min_size=1, max_size=5))
def test_every_candidate_is_fetched_or_rejected(locations: list[str]) -> None:
    """No network, no DNS: loopback is refused by the guard, the rest is not an http(s) URL at all."""
    guarded = HttpSettings(obey_robots=False, host_delay_seconds=0, max_retries=0)
    candidates = [Candidate(f"http://127.0.0.1{loc}" if i % 2 else loc, "p") for i, loc in enumerate(locations)]
    outcome = fetch_pages(candidates, guarded)
    assert len(outcome.pages) + len(outcome.rejections) + len(outcome.not_modified) == len(candidates)


WAREHOUSE = Path(tempfile.mkdtemp(prefix="broadsheet-properties-")) / "w.duckdb"


@settings(max_examples=20, deadline=None)
@given(title=anything, text=anything, authors=st.lists(anything, max_size=3), url=st.one_of(urls, anything),
       message=anything)
def test_any_text_is_staged_and_loaded(title: str, text: str, authors: list[str], url: str, message: str) -> None:
    """This test found lone surrogates (from a JSON feed's escapes) crashing the staging of the whole batch."""
    article_id = uuid.uuid4().hex
    article = Article(article_id, url, url, "src", title, tuple(authors), NOW, "en", None, text, "h", NOW, "test")
    batch = Batch(articles=[article], rejections=[Rejection("fetch", url, "src", "odd", message)])
    stage_batch(batch, "run1", staging_dir(WAREHOUSE))
    conn = connect(WAREHOUSE)
    try:
        result = load_staged(conn, staging_dir(WAREHOUSE))
        stored = conn.execute("select count(*) from articles where article_id = ?", [article_id]).fetchone()
    finally:
        conn.close()
    assert (result.articles, result.quarantined, stored) == (1, 0, (1,))
