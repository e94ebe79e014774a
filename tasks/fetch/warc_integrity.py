"""Whether a WARC record is what its header says: its length, where it ends, and its digests.

A record's block must hold the ``Content-Length`` bytes its header declares and be followed by the blank
line that ends a record (or by the end of the file or of its gzip member, as warcio judges it). A
truncated file, or a length that runs past the file's end or into the next record, breaks that. Where
the header gives a ``WARC-Block-Digest`` (over the block) or a ``WARC-Payload-Digest`` (over the body
of an HTTP message, or the whole block: writers differ, so either may match), the bytes must hash to
it: ``algorithm:value`` with any algorithm :mod:`hashlib` knows (``sha1``, ``sha256``, ``sha-256``),
the value in base32 as WARC writers write it, or in hex or base64. A payload digest is not checked when
the response declares a ``Transfer-Encoding`` (writers disagree on whether it covers the encoded or the
decoded body), nor in a segment; a digest of an unknown algorithm is not checked. After a broken
record, :func:`next_record_start` finds where the next one begins (the end of the broken record's gzip
member, or the next ``WARC/1.x`` line of an uncompressed file), so a broken record loses only itself.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

_CHUNK = 1 << 16
_HTTP_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HTTP_START = re.compile(rb"HTTP/\d|[A-Z]+ \S+ HTTP/\d")  # a status line, or a request line
_MAX_HTTP_HEAD = 1 << 16
_TRANSFER_ENCODING = re.compile(rb"^transfer-encoding[ \t]*:", re.IGNORECASE | re.MULTILINE)
_GZIP_MAGIC = b"\x1f\x8b"
_WARC_LINE = re.compile(rb"\nWARC/1\.\d\r?\n")


@dataclass
class _Digest:
    """A digest a record's header declares, and the hashes of what it may cover, as the bytes are read."""

    name: str  # the header's name
    declared: str
    expected: bytes | None  # None: a value that is not a digest of this algorithm in any encoding
    hashers: list[Any]  # the whole block; for a payload, also the body after an HTTP head
    checked: bool = True

    def problem(self) -> str | None:
        if not self.checked or any(hasher.digest() == self.expected for hasher in self.hashers):
            return None
        return f"does not match its {self.name} {self.declared[:120]!r} (the bytes are damaged)"


def _digest(name: str, declared: str | None) -> _Digest | None:
    """The digest a header declares; None when there is none or its algorithm is unknown (nothing to check)."""
    algorithm, _, value = (declared or "").strip().partition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    if algorithm not in hashlib.algorithms_available:
        return None
    hasher = hashlib.new(algorithm)
    if not hasher.digest_size:  # shake_*: no fixed length to compare
        return None
    return _Digest(name, (declared or "").strip(), _decoded(value.strip(), hasher.digest_size), [hasher])


def _decoded(value: str, size: int) -> bytes | None:
    """The bytes of a digest of ``size`` bytes written in base32, hex or base64 (told apart by length)."""
    bare = value.rstrip("=")
    try:
        if len(bare) == math.ceil(size * 8 / 5):
            return base64.b32decode(bare.upper() + "=" * (-len(bare) % 8))
        if len(bare) == 2 * size:
            return bytes.fromhex(bare)
        if len(bare) == math.ceil(size * 4 / 3):
            return base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=b"-_")
    except ValueError:  # binascii.Error included
        return None
    return None


@dataclass(frozen=True)
class Broken:
    """What is wrong with a record; ``ended``: it still ends where its header says, so the next one follows;
    ``header_damaged``: its header is cut short or damaged, so its target URI cannot be trusted either."""

    problem: str
    ended: bool = False
    header_damaged: bool = False


def check_record(records: ArchiveIterator, record: ArcWarcRecord, check_digests: bool) -> Broken | None:
    """What is wrong with ``record``, just read by ``records`` (with ``no_record_parse``), or None.

    Reads the record to its end: its block, and the blank lines after it.
    """
    declared = str(record.rec_headers.get_header("Content-Length") or "").strip()
    if not declared:
        return Broken("has no Content-Length (its header is cut short or damaged)", header_damaged=True)
    if record.length is None or not declared.isdigit():
        return Broken(f"has the Content-Length {declared[:40]!r}, not a number of bytes", header_damaged=True)
    digests = _digests(record) if check_digests else []
    size = _read_block(record.raw_stream, digests)
    if size < record.length:
        return Broken(f"ends after {size:,} of the {record.length:,} bytes its Content-Length declares "
                      "(the file is truncated, or the length is wrong)")
    errors = records.err_count
    records.read_to_end()  # counts an error when no blank line follows the block
    if records.err_count > errors:
        return Broken(f"does not end after the {record.length:,} bytes its Content-Length declares: other "
                      "bytes follow where the next record should begin (the length is wrong)")
    return next((Broken(problem, ended=True) for digest in digests if (problem := digest.problem())), None)


def _digests(record: ArcWarcRecord) -> list[_Digest]:
    headers = record.rec_headers
    block = _digest("WARC-Block-Digest", headers.get_header("WARC-Block-Digest"))
    payload = _digest("WARC-Payload-Digest", headers.get_header("WARC-Payload-Digest"))
    if headers.get_header("WARC-Segment-Number"):  # a segment holds only part of the payload
        payload = None
    return [digest for digest in (block, payload) if digest is not None]


def _read_block(stream: Any, digests: list[_Digest]) -> int:
    """Reads a record's block to its end, hashing it; the number of bytes there were.

    A payload digest may cover the whole block, or (in an HTTP message) the body after its head: both
    are hashed, and either may match.
    """
    payload = [d for d in digests if d.name == "WARC-Payload-Digest"]
    head: bytearray | None = bytearray() if payload else None  # the block's start, until an HTTP head ends
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        for digest in digests:
            for hasher in digest.hashers if head is None else digest.hashers[:1]:
                hasher.update(chunk)
        if head is not None:
            head += chunk
            head = _after_http_head(head, payload)
    return size


def _after_http_head(head: bytearray, payload: list[_Digest]) -> bytearray | None:
    """Hashes the body once an HTTP head has ended; None when done (or the block is no HTTP message)."""
    if len(head) < 32:
        return head  # too little to tell yet
    end = _HTTP_HEAD_END.search(head)
    if not _HTTP_START.match(head) or (end is None and len(head) > _MAX_HTTP_HEAD):
        return None
    if end is None:
        return head
    if _TRANSFER_ENCODING.search(head, 0, end.start()):
        for digest in payload:  # writers disagree on whether it covers the encoded or the decoded body
            digest.checked = False
        return None
    for digest in payload:
        body = hashlib.new(digest.hashers[0].name)
        body.update(head[end.end():])
        digest.hashers.append(body)
    return None


def next_record_start(handle: BinaryIO, offset: int) -> int | None:
    """Where the record after the broken one at ``offset`` begins; None when no other record follows."""
    handle.seek(offset)
    if handle.read(2) == _GZIP_MAGIC:
        return _gzip_member_end(handle, offset)
    return _next_warc_line(handle, offset + 1)


def _gzip_member_end(handle: BinaryIO, offset: int) -> int | None:
    handle.seek(offset)
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        while not inflate.eof:
            data = handle.read(_CHUNK)
            if not data:
                return None  # the member is cut short: nothing follows it
            while data and not inflate.eof:
                inflate.decompress(data, _CHUNK)  # bounded output: a bomb is only read, never held
                data = inflate.unconsumed_tail
    except zlib.error:
        return None
    return handle.tell() - len(inflate.unused_data)


def _next_warc_line(handle: BinaryIO, start: int) -> int | None:
    handle.seek(start)
    position, carry = start, b""
    while chunk := handle.read(_CHUNK):
        window = carry + chunk
        found = _WARC_LINE.search(window)
        if found:
            return position - len(carry) + found.start() + 1
        carry = window[-16:]
        position += len(chunk)
    return None
