"""Duplicates and history: canonical URLs, exact and near duplicates, persistent clusters, revisions."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import DAY, FLOOD, WIRE, article, batch_of, duckdb_target, load, query

from broadsheet.config.records import Page
from broadsheet.config.settings import ExtractSettings
from broadsheet.tasks.extract.article import extract_article
from broadsheet.tasks.extract.identity import canonical_url, declared_canonical
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.duplicates import find_members
from broadsheet.warehouse.minhash import (
    CANDIDATES_PER_BAND,
    NewArticle,
    assign_clusters,
    band_keys,
    minhash,
    similarity,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.news.example/a?utm_source=x&fbclid=1#comments", "https://news.example/a"),
        ("https://m.news.example/politics/vote", "https://news.example/politics/vote"),
        ("http://www.m.news.example/", "http://news.example/"),  # every variant prefix, not just the first
        ("https://amp.news.example/amp/politics/vote", "https://news.example/politics/vote"),
        ("https://news.example/politics/vote/amp/", "https://news.example/politics/vote"),
        ("https://news.example/politics/vote.amp.html?amp=1", "https://news.example/politics/vote.html"),
        ("https://news.example/amplifier-review", "https://news.example/amplifier-review"),
        ("https://news.example/a?page=2&id=7", "https://news.example/a?id=7&page=2"),
        # RFC 3986 normalisation (w3lib): dot segments, percent-encoding, IDN hosts as punycode
        ("https://news.example/a/b/../c/./d.html", "https://news.example/a/c/d.html"),
        ("https://news.example/%7euser/caf%c3%a9", "https://news.example/~user/caf%C3%A9"),
        ("https://news.example/café", "https://news.example/caf%C3%A9"),
        ("https://Nyheder.BØRSEN.dk/a", "https://nyheder.xn--brsen-vua.dk/a"),
        ("https://www.børsen.dk/a", "https://xn--brsen-vua.dk/a"),
        # session parameters, in the query or as a path parameter
        ("https://news.example/a?PHPSESSID=9f3c&id=7&sid=1&jsessionid=2", "https://news.example/a?id=7"),
        ("https://news.example/a;jsessionid=0A1B2C?id=7", "https://news.example/a?id=7"),
        # a host prefix is stripped only when what is left is not a public suffix
        ("http://www.co.uk/a", "http://www.co.uk/a"),
        ("http://www.bbc.co.uk/a", "http://bbc.co.uk/a"),
        ("https://m.blogspot.com/", "https://m.blogspot.com/"),
        ("https://www.coast.github.io/a", "https://coast.github.io/a"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://[", "http://["),  # a page may declare any text as its canonical link: it never raises
    ],
)
def test_canonical_url_variants(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_declared_canonical_is_trusted_unless_it_is_a_bare_site_root() -> None:
    assert declared_canonical("https://mirror.example/x?ref=rss", "https://wire.example/story") == \
        "https://wire.example/story"
    assert declared_canonical("https://news.example/story", "https://news.example/") == "https://news.example/story"
    assert declared_canonical("https://news.example/story", "javascript:alert(1)") == "https://news.example/story"
    assert declared_canonical("https://news.example/story", None) == "https://news.example/story"


def _page(url: str, head: str) -> Page:
    body = "".join(f"<p>{WIRE} Paragraph {i}.</p>" for i in range(2))
    html = f"<html><head><title>Rates</title>{head}</head><body><article><h1>Rates</h1>{body}</article></body></html>"
    return Page(url, url, "src", html.encode(), "text/html", DAY)


def test_rel_canonical_makes_the_amp_and_mobile_copies_one_article() -> None:
    head = '<link rel="canonical" href="https://news.example/economy/rates">'
    settings = ExtractSettings()
    amp = extract_article(_page("https://news.example/economy/rates/amp", head), settings)
    mobile = extract_article(_page("https://m.news.example/economy/rates?utm_medium=social", ""), settings)
    shared = extract_article(_page("https://elsewhere.example/p/123", head), settings)
    assert amp.canonical_url == mobile.canonical_url == shared.canonical_url == "https://news.example/economy/rates"
    assert amp.article_id == mobile.article_id == shared.article_id


def test_minhash_estimates_similarity() -> None:
    edited = WIRE.replace("on Tuesday", "on Tuesday afternoon").replace("barely moved", "hardly moved")
    assert similarity(minhash(WIRE), minhash(WIRE)) == 1.0
    assert similarity(minhash(WIRE), minhash(edited)) > 0.6
    assert similarity(minhash(WIRE), minhash(FLOOD)) < 0.1


def test_assign_clusters_without_a_warehouse() -> None:
    wire = NewArticle("a", "https://wire.example/rates", "h1", WIRE)
    copy = NewArticle("b", "https://paper.example/rates", "h1", WIRE)
    repost = NewArticle("c", "https://blog.example/rates", "h2", "Reposted: " + WIRE.replace("Tuesday", "Monday"))
    other = NewArticle("d", "https://paper.example/flood", "h3", FLOOD)
    revised = NewArticle("e", "https://paper.example/flood", "h4", FLOOD + " Update: the water is receding.")
    kinds = [(a.cluster_id, a.match_kind, a.matched_article_id)
             for a in assign_clusters([wire, copy, repost, other, revised], lambda urls, hashes, keys: [], 0.6)]
    assert kinds == [("a", "original", None), ("a", "exact", "a"), ("a", "near", "a"), ("d", "original", None),
                     ("d", "revision", "d")]


def test_clusters_persist_across_runs_and_sources(tmp_path: Path) -> None:
    target = duckdb_target(tmp_path)
    wire = article("https://wire.example/rates", WIRE, source="wire", published=DAY)
    load(target, batch_of(wire), run_id="run1")
    # A later run, other sources: a syndicated copy published earlier than the wire's own page, a
    # lightly edited repost, and an unrelated story.
    copy = article("https://paper.example/business/rates", WIRE, source="paper", published=DAY - timedelta(hours=1),
                   seen=DAY + timedelta(hours=2))
    repost = article("https://blog.example/rates", WIRE.replace("on Tuesday", "this week") + " Our view follows.",
                     source="blog", seen=DAY + timedelta(hours=3))
    flood = article("https://paper.example/flood", FLOOD, source="paper", seen=DAY + timedelta(hours=3))
    load(target, batch_of(copy, repost, flood), run_id="run2")
    clusters = dict(query(target, "select article_id, match_kind from article_clusters"))
    assert clusters == {wire.article_id: "original", copy.article_id: "exact", repost.article_id: "near",
                        flood.article_id: "original"}
    rows = query(target, "select original_article_id, copies, sources, exact_copies, near_copies "
                         "from duplicate_clusters order by copies desc")
    # The earliest published copy is the original, though it was loaded later.
    assert rows == [(copy.article_id, 3, 3, 1, 1), (flood.article_id, 1, 1, 0, 0)]
    assert query(target, "select count(*), count(distinct cluster_id) from latest_articles") == [(4, 2)]
    assert query(target, "select sum(stories) from daily_entity_counts where name = 'Maria Costa'") == [(2,)]


def test_a_changed_text_at_a_known_url_is_a_revision(tmp_path: Path) -> None:
    target = duckdb_target(tmp_path)
    first = article("https://paper.example/flood", FLOOD, seen=DAY)
    load(target, batch_of(first), run_id="run1")
    updated_text = FLOOD + " Update, 18:00: the river is falling and residents may return home."
    second = article("https://paper.example/flood?utm_source=rss", updated_text, seen=DAY + timedelta(hours=9))
    assert load(target, batch_of(second), run_id="run2").articles == 1
    versions = query(target, "select version, is_latest, superseded_at, cluster_id, match_kind "
                             "from article_versions order by version")
    assert versions == [(1, False, DAY + timedelta(hours=9), first.article_id, "original"),
                        (2, True, None, first.article_id, "revision")]
    latest = query(target, "select article_id, text, versions from latest_articles")
    assert latest == [(second.article_id, updated_text, 2)]
    # Loading the first version again adds nothing and does not make it the latest.
    assert load(target, batch_of(first), run_id="run3").articles == 0
    assert query(target, "select article_id from latest_articles") == [(second.article_id,)]


def _band_keys_64(signature: tuple[int, ...]) -> list[int]:
    """The band keys stored before migration 0013: the whole 8-byte digest of each band."""
    rows = 128 // 32
    return [int.from_bytes(hashlib.blake2b(f"{band}:{signature[band * rows:(band + 1) * rows]}".encode(),
                                           digest_size=8).digest(), "little", signed=True) for band in range(32)]


def test_band_keys_stored_before_0013_are_narrowed_to_the_keys_of_new_articles(tmp_path: Path) -> None:
    target = duckdb_target(tmp_path)
    wire = article("https://wire.example/rates", WIRE, source="wire")
    flood = article("https://paper.example/flood", FLOOD, source="paper")
    load(target, batch_of(wire, flood), run_id="run1")
    # The warehouse as schema 12 left it: 64-bit keys, and 0013 not applied.
    conn = duckdb.connect(str(target.path))
    signatures = dict(conn.execute("select article_id, minhash from article_clusters").fetchall())
    conn.execute("drop table minhash_bands")
    conn.execute("create table minhash_bands (band_key bigint not null, article_id varchar not null)")
    conn.executemany("insert into minhash_bands values (?, ?)",
                     [(key, a) for a, signature in signatures.items() for key in _band_keys_64(tuple(signature))])
    conn.execute("delete from schema_migrations where version = 13")
    assert max(k for (k,) in conn.execute("select band_key from minhash_bands").fetchall()) > 2**31
    conn.close()

    repost = article("https://blog.example/rates", WIRE.replace("on Tuesday", "this week") + " Our view follows.",
                     source="blog", seen=DAY + timedelta(hours=3))
    load(target, batch_of(repost), run_id="run2")  # its writer applies 0013 first

    stored = query(target, "select article_id, list_sort(list(band_key)) from minhash_bands group by article_id")
    assert dict(stored) == {a: sorted(set(band_keys(tuple(s)))) for a, s in
                            [*signatures.items(), (repost.article_id, minhash(repost.text))]}
    assert query(target, "select data_type from information_schema.columns "
                         "where table_name = 'minhash_bands' and column_name = 'band_key'") == [("INTEGER",)]
    # The repost found the wire story by the converted keys.
    assert query(target, "select match_kind, cluster_id from article_clusters where article_id = ?",
                 [repost.article_id]) == [("near", wire.article_id)]


def test_a_story_copied_many_times_stays_one_cluster_and_its_candidate_lookup_is_bounded(tmp_path: Path) -> None:
    target = duckdb_target(tmp_path)
    long_story = " ".join(f"Paragraph {i} of the report weighs what the decision means for savers." for i in range(300))
    copies = [article(f"https://site{n}.example/rates", f"{long_story} Edition {n} of this story.",
                      seen=DAY + timedelta(minutes=n)) for n in range(CANDIDATES_PER_BAND + 10)]
    for first in range(0, len(copies), 10):
        load(target, batch_of(*copies[first:first + 10]), run_id=f"run{first}")
    assert query(target, "select count(distinct cluster_id), count(*) from article_clusters") == [(1, len(copies))]
    conn = connect(target)
    try:
        keys = sorted(set(band_keys(minhash(f"{long_story} Edition 99 of this story."))))
        conn.execute("begin transaction")  # as in a load: the lookup reads rows by moving them out and back
        candidates = find_members(conn, [], [], keys)
        conn.execute("rollback")
    finally:
        conn.close()
    assert 0 < len(candidates) < len(copies)
    assert copies[0].article_id not in {m.article_id for m in candidates}


def test_the_public_suffix_list_is_read_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from broadsheet.tasks.extract.identity import is_public_suffix

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the public suffix list must come from the installed package, not the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    is_public_suffix.cache_clear()
    assert [is_public_suffix(h) for h in ("co.uk", "github.io", "bbc.co.uk", "uk", "example")] == [
        True, True, False, True, True]
