"""Broken WARC files (issue 26, item 6): each record is checked against its header before it is used.

A truncated ``.warc.gz`` used to load its cut record (which became the latest version of that story, cut
short), and a ``Content-Length`` running past the end of the file swallowed the next record (lost with no
rejection). Now a record that does not end where its header says, or whose digest does not match, is one
``bad_warc`` rejection and never a candidate; the file's other records are read.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from broadsheet.config.settings import Settings
from broadsheet.tasks.fetch import discover_archive, fetch_pages

URLS = [f"https://coast.example/story-{i}" for i in range(4)]


def body(i: int) -> bytes:
    words = " ".join(f"harbour{i * 7 + n % 13} council{n % 11} tram{n % 5}" for n in range(300))
    return f"<html><head><title>Story {i}</title></head><body><article><p>{words}</p></article></body></html>".encode()


def record(uri: str, content: bytes) -> bytes:
    """One uncompressed WARC response record, with warcio's sha1 digests."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(content), http_headers=headers,
                                                  warc_headers_dict={"WARC-Date": "2024-05-06T07:08:09Z"}))
    return out.getvalue()


def records() -> list[bytes]:
    return [record(url, body(i)) for i, url in enumerate(URLS)]


def archive(path: Path, parts: list[bytes], gz: bool) -> Path:
    """The records as one file: each in a gzip member of its own (as WARC writers do), or plain."""
    path = path.with_name(path.name + (".warc.gz" if gz else ".warc"))
    path.write_bytes(b"".join(gzip.compress(part) for part in parts) if gz else b"".join(parts))
    return path


def without_digests(part: bytes) -> bytes:
    return re.sub(rb"WARC-(?:Block|Payload)-Digest: [^\r]*\r\n", b"", part)


def with_length(part: bytes, delta: int) -> bytes:
    def change(match: re.Match[bytes]) -> bytes:
        return b"Content-Length: %d" % (int(match.group(1)) + delta)
    return re.sub(rb"Content-Length: (\d+)", change, part, count=1)


def urls(found: tuple[list, list]) -> list[str]:
    return [candidate.url for candidate in found[0]]


def the_rejection(found: tuple[list, list]) -> tuple[str, str, str]:
    [rejection] = found[1]
    return rejection.url, rejection.error_type, rejection.message


@pytest.mark.parametrize("share", [0.1, 0.3, 0.6])
def test_a_truncated_warc_gz_rejects_the_cut_record_and_keeps_the_others(tmp_path: Path, settings: Settings,
                                                                         share: float) -> None:
    """The file ends inside the last record's body: warcio reads it quietly, shorter than declared."""
    parts = records()
    whole = archive(tmp_path / "crawl", parts, gz=True).read_bytes()
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(whole[:-int(len(gzip.compress(parts[-1])) * share)])  # that share of its last member cut

    found = discover_archive(path, "crawl")

    assert urls(found) == URLS[:3]
    url, error_type, message = the_rejection(found)
    assert (url, error_type) == (URLS[3], "bad_warc")
    assert "bytes its Content-Length declares" in message and "it is not loaded" in message
    pages = fetch_pages(found[0], settings.http).pages
    assert [page.content for page in pages] == [body(i) for i in range(3)]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_record_cut_inside_its_header_is_rejected_under_the_file_not_under_a_cut_uri(tmp_path: Path,
                                                                                      gz: bool) -> None:
    parts = records()
    cut = parts[-1][: parts[-1].index(URLS[3].encode()) + len(URLS[3]) - 4]  # inside its target URI
    whole = archive(tmp_path / "crawl", parts[:-1], gz).read_bytes()
    path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    path.write_bytes(whole + (gzip.compress(cut)[:-8] if gz else cut))  # a gzip member without its trailer

    found = discover_archive(path, "crawl")

    assert urls(found) == URLS[:3]
    url, error_type, message = the_rejection(found)
    assert url.startswith(f"{path.as_uri()}#") and error_type == "bad_warc"
    assert "header is cut short" in message


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("delta", [10**7, 150, -150], ids=["past-the-end", "into-the-next", "too-short"])
def test_a_record_that_does_not_end_where_its_length_says_is_rejected_alone(tmp_path: Path, gz: bool,
                                                                           delta: int) -> None:
    """Without digests, so the length alone must tell: a plain file's second record used to swallow the next."""
    parts = [without_digests(part) for part in records()]
    parts[1] = with_length(parts[1], delta)

    found = discover_archive(archive(tmp_path / "crawl", parts, gz), "crawl")

    assert urls(found) == [URLS[0], URLS[2], URLS[3]]
    url, error_type, message = the_rejection(found)
    assert (url, error_type) == (URLS[1], "bad_warc")
    assert "Content-Length declares" in message


def digest_header(name: str, algorithm: str, data: bytes, encoding: str) -> bytes:
    raw = hashlib.new(algorithm.replace("-", ""), data).digest()
    value = {"base32": base64.b32encode(raw).decode(), "base32-bare": base64.b32encode(raw).decode().rstrip("="),
             "hex": raw.hex(), "base64": base64.b64encode(raw).decode()}[encoding]
    return f"WARC-{name}-Digest: {algorithm}:{value}\r\n".encode()


def with_digest(part: bytes, name: str, algorithm: str, encoding: str) -> bytes:
    """``part`` with only the digest ``name`` (Block or Payload), computed here in the form given."""
    part = without_digests(part)
    head, block = part[:part.index(b"\r\n\r\n") + 4], part[part.index(b"\r\n\r\n") + 4:-4]
    covered = block if name == "Block" else block[block.index(b"\r\n\r\n") + 4:]
    return head.replace(b"Content-Length:", digest_header(name, algorithm, covered, encoding) + b"Content-Length:") \
        + block + b"\r\n\r\n"


@pytest.mark.parametrize("name", ["Block", "Payload"])
@pytest.mark.parametrize(("algorithm", "encoding"), [("sha1", "base32"), ("sha256", "base32"),
                                                     ("sha-256", "base32-bare"), ("sha256", "hex"),
                                                     ("sha512", "base64")])
def test_a_record_whose_digest_does_not_match_is_rejected_alone(tmp_path: Path, name: str, algorithm: str,
                                                              encoding: str) -> None:
    """The other records carry right digests in the same form: they are read, so the check reads that form."""
    parts = [with_digest(part, name, algorithm, encoding) for part in records()]
    parts[2] = parts[2].replace(b"council3", b"council8", 1)  # the same length, one byte changed

    for gz in (False, True):
        found = discover_archive(archive(tmp_path / f"crawl-{gz}", parts, gz), "crawl")

        assert urls(found) == [URLS[0], URLS[1], URLS[3]]
        url, error_type, message = the_rejection(found)
        assert (url, error_type) == (URLS[2], "bad_warc")
        assert f"does not match its WARC-{name}-Digest" in message


def test_warcio_digests_of_intact_records_pass(tmp_path: Path) -> None:
    """Records as warcio writes them (sha1, base32, block and payload digests) are all read."""
    for gz in (False, True):
        found = discover_archive(archive(tmp_path / f"crawl-{gz}", records(), gz), "crawl")
        assert urls(found) == URLS and found[1] == []


def arc_record(url: bytes, block: bytes) -> bytes:
    return url + b" 93.184.216.34 20240506070809 text/html %d\n" % len(block) + block + b"\n"


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_an_arc_file_is_still_read(tmp_path: Path, gz: bool) -> None:
    """ARC records (one newline after each, no digests) pass the same length checks."""
    version = b"1 0 crawl\nURL IP-address Archive-date Content-type Archive-length\n"
    parts = [arc_record(b"filedesc://crawl.arc", version).replace(b"text/html", b"text/plain")]
    parts += [arc_record(url.encode(), b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body(i))
              for i, url in enumerate(URLS[:2])]
    path = tmp_path / ("crawl.arc.gz" if gz else "crawl.arc")
    path.write_bytes(b"".join(gzip.compress(part) for part in parts) if gz else b"".join(parts))

    found = discover_archive(path, "crawl")

    assert urls(found) == URLS[:2] and found[1] == []
