"""Every feed, sitemap and WARC file of ../shared/eval is read: items where well-formed, clear rejections where not.

The data is third-party and is never copied here; the tests skip, saying why, when the folder is
absent. Where MANIFEST.tsv names an expected parse (feed-rs's ``*.serde.json``), the items found must
be the expected entries: as many, and each link one of the entry's links or its id.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from urllib.parse import urljoin

import pytest

from broadsheet.config.records import Candidate, Discovery, Page
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.discover.feeds import parse_feed_page
from broadsheet.tasks.discover.sitemaps import read_sitemap_page, robots_sitemaps
from broadsheet.tasks.extract.identity import canonical_url
from broadsheet.tasks.fetch.documents import file_url, read_local
from broadsheet.tasks.fetch.fetcher import fetch_pages
from broadsheet.tasks.fetch.warc import discover_archive

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
FEEDS = EVAL / "feeds-sitemaps"
WARCS = EVAL / "warc"
MAX_BYTES = 10_000_000


def manifest() -> list[dict[str, str]]:
    if not (FEEDS / "MANIFEST.tsv").is_file():
        return []
    with (FEEDS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = manifest()
WARC_FILES = sorted(p for p in WARCS.rglob("*") if p.is_file()) if WARCS.is_dir() else []
needs_feeds = pytest.mark.skipif(not ROWS, reason=f"no eval feeds at {FEEDS} (../shared/eval is not checked out)")
needs_warcs = pytest.mark.skipif(not WARC_FILES, reason=f"no eval WARC files at {WARCS}")


def read(path: Path) -> Page:
    # Read like a remote document: the eval files stand in for what a server would send.
    local = read_local(Candidate(file_url(path), "eval"), MAX_BYTES)
    return Page(local.url, "https://eval.test/" + path.name, "eval", local.content, local.content_type,
                local.fetched_at)


def process(path: Path) -> Discovery:
    page = read(path)
    if path.parts[-3:-1] == ("feeds-sitemaps", "feeds") or "feeds" in path.relative_to(FEEDS).parts[:1]:
        return parse_feed_page(page)
    if path.name == "robots.txt":
        return Discovery(candidates=[Candidate(u, "eval") for u in robots_sitemaps(page)])
    found, children = read_sitemap_page(page, MAX_BYTES)
    found.candidates += [Candidate(u, "eval") for u in children]
    return found


@needs_feeds
def test_manifest_is_complete() -> None:
    assert len(ROWS) == len([p for p in FEEDS.rglob("*") if p.is_file() and p.suffix != ".tsv"
                             and not p.name.endswith(".serde.json") and not p.name.startswith("LICENSE")])


@needs_feeds
@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_every_feed_and_sitemap_is_read(row: dict[str, str]) -> None:
    found = process(FEEDS / row["path"])

    # A broken file, or one with items, gives items or a clear rejection; a well-formed feed with no
    # items may simply be empty (a non-feed XML document is still rejected as bad_feed).
    if has_items(FEEDS / row["path"]) or row["parse_status(python xml.etree)"] not in ("xml-ok", "json-ok"):
        assert found.candidates or found.rejections, "neither items nor a rejection"
    for rejection in found.rejections:
        assert rejection.stage == "discover" and rejection.error_type and len(rejection.message) > 20
    if row["parse_status(python xml.etree)"] in ("xml-ok", "json-ok") and row["expected_output"]:
        check_expected(found, FEEDS / row["expected_output"])


def has_items(path: Path) -> bool:
    """Whether a file holds any item, entry or url element (or JSON Feed items) at all."""
    head = path.read_bytes()
    if path.suffix == ".gz":
        head = gzip.decompress(head)
    if path.suffix == ".txt":  # a plain-text sitemap: one URL a line
        return b"http" in head
    return any(tag in head.lower() for tag in (b"<item", b"<entry", b"<url", b"<sitemap>", b'"items"'))


def entry_links(entry: dict, base: str) -> set[str]:
    links = {urljoin(base, link["href"]) for link in entry.get("links", []) if link.get("href")}
    return links | ({entry["id"]} if entry.get("id") else set())


def check_expected(found: Discovery, expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    entries = expected.get("entries", [])
    no_link = [r for r in found.rejections if r.error_type in ("no_link", "invalid_url")]
    assert len(found.candidates) + len(no_link) == len(entries)
    links = set().union(*(entry_links(e, "https://eval.test/") for e in entries)) if entries else set()
    allowed = {same(link) for link in links}
    for candidate in found.candidates:
        assert same(candidate.url) in allowed, candidate.url


def same(url: str) -> str:
    """URLs compared as the warehouse compares them (host case, default port, trailing slash)."""
    return canonical_url(url).rstrip("/") if url.startswith("http") else url


@needs_feeds
def test_sitemap_expectations() -> None:
    news = process(FEEDS / "sitemaps/usp-format-examples/google-news.xml")
    assert news.candidates and all(c.title_hint and c.published_hint for c in news.candidates)
    index = process(FEEDS / "sitemaps/crawler-commons/sitemap.index.xml")
    assert len(index.candidates) >= 2
    robots = process(FEEDS / "sitemaps/usp-format-examples/robots.txt")
    assert len(robots.candidates) == 4
    gz = process(FEEDS / "sitemaps/trafilatura/sitemap.xml.gz")
    assert gz.candidates and not gz.rejections


@needs_warcs
@pytest.mark.parametrize("path", WARC_FILES, ids=[p.name for p in WARC_FILES])
def test_every_warc_file_is_read(path: Path) -> None:
    candidates, rejections = discover_archive(path, "eval")
    outcome = fetch_pages(candidates, HttpSettings())  # archive records only: no request is made

    assert outcome.fetches == []
    assert len(outcome.pages) + len(outcome.rejections) == len(candidates)
    for rejection in rejections + outcome.rejections:
        assert rejection.error_type and len(rejection.message) > 20
    assert all(page.url.startswith(("http://", "https://")) for page in outcome.pages)


@needs_warcs
def test_warc_expectations() -> None:
    candidates, rejections = discover_archive(WARCS / "resiliparse" / "warcfile.warc.gz", "eval")
    assert len(candidates) == 16 and rejections == []
    _, broken = discover_archive(WARCS / "warcio" / "example-bad-non-chunked.warc.gz", "eval")
    assert [r.error_type for r in broken] == ["bad_warc"]
    arc, _ = discover_archive(WARCS / "warcio" / "example.arc.gz", "eval")
    assert [c.url for c in arc] == ["http://example.com/"]
