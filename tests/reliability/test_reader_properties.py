# ruff: noqa: RUF001  (text in other scripts is the point of these inputs)
"""Random folders, WARC files and feeds through the readers (issue 26, its last item).

Inputs are made from a seeded random generator: random bytes, and text in several languages and
encodings (UTF-16 and -32, Windows code pages, Shift_JIS, EBCDIC), as HTML or plain text, gzipped or
not, empty to 70 kB, under random names (not UTF-8, with spaces, ``#``, ``%``, 150 characters long);
WARC files of random records, whole, cut short or with a byte of a body changed; feeds in several
encodings whose items link to random pages served from 127.0.0.1, or random bytes.

The quick test runs the readers as the ingest flow does (discover, fetch, extract) on random folders,
and checks that every file, and every WARC record, becomes an article or a rejection. The slow one runs
``broadsheet ingest`` itself on a folder and a feed: it exits 0 or 4, every input is an article or a
rejection in the warehouse, and no file outside the warehouse's folder changes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from broadsheet.config.records import Rejection
from broadsheet.config.settings import ExtractSettings, HttpSettings
from broadsheet.config.sources import SourceConfig
from broadsheet.flows.cli import main
from broadsheet.tasks.discover.sources import discover_source
from broadsheet.tasks.extract.article import extract_articles
from broadsheet.tasks.fetch import fetch_pages, file_url, require_html

SENTENCES = {
    "en": "The city council approved a new tram line on Tuesday, and the mayor said it would open in 2028.",
    "fr": "Le conseil municipal a approuvé mardi une nouvelle ligne de tramway, à côté de l'hôtel de ville.",
    "de": "Der Stadtrat hat am Dienstag eine neue Straßenbahnlinie über die Brücke genehmigt.",
    "ru": "Городской совет во вторник одобрил новую трамвайную линию, сказал мэр.",
    "ja": "市議会は火曜日、新しい路面電車の路線を承認した。市長は二〇二八年に開業すると述べた。",
    "zh": "市议会周二批准了一条新的有轨电车线路，市长表示将于二〇二八年开通。",
}
ENCODINGS = ["utf-8", "utf-8", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1", "cp1251", "koi8-r",
             "shift_jis", "gb18030", "cp037"]
NAMES = [b"story", b"caf\xc3\xa9", b"bad\xff\xfe", b"\xe9t\xe9", b"two words", b"n%20ame", b"hash#tag",
         b"what?", "новости".encode(), "ニュース".encode(), b"x" * 150]
FOLDER_SUFFIXES = [".html", ".htm", ".xhtml", ".txt", ".html.gz", ".warc", ".warc.gz", ".xml", ".bin", ""]
DOCUMENT_RECORDS = ("response", "resource")


@dataclass
class Expected:
    """What inputs must become: each URL an article or a rejection; each broken WARC record a bad_warc
    rejection (of its URI, or of its file at some offset) and never an article; a record cut short in a
    gzip member either (its last bytes may have been only the gzip trailer)."""

    urls: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)  # a record's URI -> its file's URL
    unsure: dict[str, str] = field(default_factory=dict)

    def unmet(self, articles: set[str], rejections: list[Rejection]) -> list[str]:
        rejected = {r.url for r in rejections}
        bad = [r.url for r in rejections if r.error_type == "bad_warc"]
        missing = [f"no outcome: {url}" for url in sorted(self.urls - articles - rejected)]
        loaded = [f"broken, loaded: {uri}" for uri in sorted(self.broken) if uri in articles]
        unflagged = [f"broken, no bad_warc: {uri}" for uri, warc in sorted({**self.broken, **self.unsure}.items())
                     if uri not in articles | rejected and not any(u == uri or u.startswith(warc) for u in bad)]
        return missing + loaded + unflagged


def text_document(rng: random.Random) -> bytes:
    language = rng.choice(list(SENTENCES))
    text = " ".join(SENTENCES[language] for _ in range(rng.choice([1, 3, 12, 60])))
    encoding = rng.choice(ENCODINGS)
    if rng.random() < 0.6:
        meta = f'<meta charset="{rng.choice(ENCODINGS)}">' if rng.random() < 0.4 else ""
        text = (f"<html lang='{language}'><head>{meta}<title>{text[:40]}</title></head><body><article>"
                f"<h1>{text[:30]}</h1><p>{text}</p></article></body></html>")
    return text.encode(encoding, errors="replace")


def document(rng: random.Random) -> bytes:
    kind = rng.choice(["empty", "bytes", "text", "text", "text"])
    if kind == "empty":
        return b""
    if kind == "bytes":
        return rng.randbytes(rng.choice([1, 100, 5_000, 70_000]))
    return text_document(rng)


def warc_record(rng: random.Random, uri: str, status: int, body: bytes, content_type: str,
                record_type: str) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders(f"{status} X", [("Content-Type", content_type)], protocol="HTTP/1.1")
    record_id = f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>"  # the same bytes for the same draws
    writer.write_record(writer.create_warc_record(uri, record_type, payload=io.BytesIO(body), http_headers=headers,
                                                  warc_headers_dict={"WARC-Date": "2024-05-06T07:08:09Z",
                                                                     "WARC-Record-ID": record_id}))
    return out.getvalue()


def random_warc(rng: random.Random, gz: bool, prefix: str, expected: Expected, path: Path) -> bytes:
    """A WARC file of random records, whole, cut short, or with a byte of a body changed; what each record
    must become goes into ``expected``."""
    records = []
    for i in range(rng.randint(1, 6)):
        uri = rng.choice([f"https://warc.example/{prefix}/{i}"] * 4 + [f"dns:host{i}.example", "not a uri"])
        record_type = rng.choice(["response", "response", "resource", "request", "metadata"])
        content_type = rng.choice(["text/html", f"text/html; charset={rng.choice(ENCODINGS)}", "text/plain",
                                   "application/octet-stream"])
        body = document(rng)
        part = warc_record(rng, uri, rng.choice([200, 200, 200, 404, 500]), body, content_type, record_type)
        records.append((uri, record_type, gzip.compress(part, mtime=0) if gz else part, body))
    data = b"".join(part for _, _, part, _ in records)
    starts = [sum(len(part) for _, _, part, _ in records[:n]) for n in range(len(records))]
    damage = rng.choice(["none", "none", "cut", "flip"])
    damaged, kind = None, "broken"
    if damage == "cut":
        cut = rng.randrange(1, len(data))
        damaged = max(n for n, start in enumerate(starts) if start < cut)
        _, _, part, _ = records[damaged]
        if gz or cut - starts[damaged] > len(part) - 4:  # in a gzip member, or only the ending blank line
            kind = "unsure"
        data = data[:cut]
    elif damage == "flip" and not gz and any(len(body) > 2 for *_, body in records):
        damaged = rng.choice([n for n, (*_, body) in enumerate(records) if len(body) > 2])
        _, _, part, body = records[damaged]
        at = starts[damaged] + part.rindex(body) + rng.randrange(len(body))
        data = data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:]
    for n, (uri, record_type, _, _) in enumerate(records):
        if record_type not in DOCUMENT_RECORDS or (damage == "cut" and damaged is not None and n > damaged):
            continue
        if n == damaged:
            getattr(expected, kind)[uri] = file_url(path)
        elif uri != "not a uri":  # an invalid URI is rejected under the file's URL and the record's offset
            expected.urls.add(uri)
    return data


def random_folder(rng: random.Random, folder: Path, expected: Expected) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(rng.randint(1, 8)):
        suffix = rng.choice(FOLDER_SUFFIXES)
        name = rng.choice(NAMES) + b"-%d" % i + suffix.encode()
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), name)))
        if suffix in (".warc", ".warc.gz"):
            content = random_warc(rng, suffix.endswith(".gz"), f"{folder.name}/{i}", expected, path)
        else:
            content = document(rng)
            if suffix.endswith(".gz"):
                content = gzip.compress(content, mtime=0)[: None if rng.random() < 0.8 else rng.randint(0, 30)]
            expected.urls.add(file_url(path))
        path.write_bytes(content)


def read_as_ingest_does(location: Path) -> tuple[set[str], list[Rejection]]:
    """The URLs of the articles and the rejections the readers make of ``location`` (no warehouse)."""
    http = HttpSettings(allow_private_addresses=False, obey_robots=False)
    discovery = discover_source(SourceConfig(name="random", location=str(location)), http)
    fetched = fetch_pages(discovery.candidates, http)
    pages, not_html = require_html(fetched.pages)
    articles, rejected = extract_articles(pages, ExtractSettings())
    return {a.url for a in articles}, discovery.rejections + fetched.rejections + not_html + rejected


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_every_random_file_and_warc_record_becomes_an_article_or_a_rejection(rng: random.Random) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        expected = Expected()
        folder = Path(temporary) / "inputs"
        random_folder(rng, folder, expected)
        articles, rejections = read_as_ingest_does(folder)
        assert expected.unmet(articles, rejections) == []


# --- the whole command -----------------------------------------------------------------------------


def random_feed(rng: random.Random, httpserver: HTTPServer, seed: int, expected: Expected) -> bytes:
    """A feed in a random encoding whose items link to random pages on ``httpserver`` (or random bytes)."""
    if rng.random() < 0.15:
        return rng.randbytes(rng.choice([10, 3_000]))
    links = []
    for i in range(rng.randint(1, 8)):
        path = f"/p/{seed}/{i}"
        charset = rng.choice(["", "; charset=utf-8", "; charset=utf-16", "; charset=iso-8859-1",
                              f"; charset={rng.choice(ENCODINGS)}"])
        httpserver.expect_request(path).respond_with_data(document(rng), content_type="text/html" + charset)
        links.append(httpserver.url_for(path))
        expected.urls.add(links[-1])
    encoding = rng.choice(["utf-8", "utf-16", "cp1252", "iso-8859-1", "cp1251"])
    items = "".join(f"<item><title>{rng.choice(list(SENTENCES.values()))[:30]}</title><link>{link}</link></item>"
                    for link in links)
    xml = (f"<?xml version='1.0' encoding='{encoding}'?><rss version='2.0'><channel><title>T</title>{items}"
           "</channel></rss>")
    return xml.encode(encoding, errors="replace")


def snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Every file under ``root`` but those under ``skip``, with a hash of its bytes."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_relative_to(skip)}


def warehouse_outcomes(path: Path) -> tuple[set[str], list[Rejection]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        articles = {row[0] for row in conn.execute("select url from articles").fetchall()}
        rows = conn.execute("select stage, url, source_id, error_type, message from rejections").fetchall()
    return articles, [Rejection(*row) for row in rows]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name, value in {"BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES": "true", "BROADSHEET_HTTP__HOST_DELAY_SECONDS": "0",
                        "BROADSHEET_HTTP__MAX_RETRIES": "0", "BROADSHEET_HTTP__TIMEOUT_SECONDS": "5"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_broadsheet_ingest_of_random_inputs_exits_0_or_4_and_writes_only_its_warehouse(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli_env: Path,
        httpserver: HTTPServer, seed: int) -> None:
    rng = random.Random(seed)
    expected = Expected()
    random_folder(rng, cli_env / "inputs" / "folder", expected)
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    feed = cli_env / "inputs" / "feed.xml"
    feed.write_bytes(random_feed(rng, httpserver, seed, expected))
    warehouse = cli_env / "warehouse" / "random.duckdb"
    before = snapshot(cli_env, warehouse.parent)

    monkeypatch.setattr("sys.argv", ["broadsheet", "ingest", str(feed.parent / "folder"), str(feed),
                                     "--db", str(warehouse), "--json"])
    with pytest.raises(SystemExit) as exited:
        main()
    out = capsys.readouterr().out

    assert exited.value.code in (0, 4, None), out
    assert json.loads(out)["warehouse"] == str(warehouse)
    articles, rejections = warehouse_outcomes(warehouse)
    assert expected.unmet(articles, rejections) == []
    assert snapshot(cli_env, warehouse.parent) == before
