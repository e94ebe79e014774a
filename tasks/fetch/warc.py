"""WARC and ARC files (gzip or not) as a source of pages, read with warcio and never the network.

Discovery streams through the file once and makes one candidate per ``response`` (or ``resource``)
record: its URL is the record's ``WARC-Target-URI`` (ARC files are read as WARC), and it carries the
record's byte offset. Fetching seeks to that offset and reads just that record, so a large archive is
processed batch by batch like any other source. Each record is checked as discovery reads it
(:mod:`.warc_integrity`: its length, where it ends, its digests); a broken one is a ``bad_warc`` rejection,
never a candidate, and the file's other records are still read. A file that breaks off into garbage keeps
the records before the break and is rejected from there on (``bad_warc``). A record archived with a
non-2xx status is rejected as ``http_status``; its date (``WARC-Date``) becomes the page's ``fetched_at``.
A file whose reads stall (a stalled network or FUSE mount) is a ``timeout`` rejection, not a hung run.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from broadsheet.config.errors import FetchError
from broadsheet.config.records import ArchiveRef, Candidate, Page, Rejection
from broadsheet.tasks.fetch.charset import charset_of
from broadsheet.tasks.fetch.documents import file_url, read_watched, sniff_content_type
from broadsheet.tasks.fetch.guard import parse_http_url
from broadsheet.tasks.fetch.warc_integrity import Broken, check_record, next_record_start

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
DOCUMENT_RECORDS = ("response", "resource")
# What a broken archive raises from inside warcio and the decompressors it uses.
_BROKEN = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, KeyError, IndexError, TypeError)


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _target_uri(record: ArcWarcRecord) -> str:
    return (record.rec_headers.get_header("WARC-Target-URI") or "").strip()


def _check_uri(uri: str, path: Path, offset: int) -> None:
    try:
        parse_http_url(uri)
    except FetchError as exc:
        raise FetchError(f"record at byte {offset} of {path} has target URI {uri[:300]!r}, not an http(s) URL",
                         code="invalid_url") from exc


@dataclass
class _Reading:
    """What reading one archive has found so far."""

    path: Path
    source: str
    candidates: list[Candidate] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    end: int = 0  # where the records read so far end: what follows must be another record


def discover_archive(path: Path, source: str, timeout_seconds: float | None = None,
                     ) -> tuple[list[Candidate], list[Rejection]]:
    """One candidate per document record of a WARC/ARC file; unreadable parts become rejections. With
    ``timeout_seconds``, a file whose reads stall that long (:func:`read_watched`) is a ``timeout``
    rejection, the records read before it kept."""
    reading = _Reading(path, source)

    def read(handle: BinaryIO) -> str | None:
        start: int | None = 0
        try:
            while start is not None:
                start = _read_from(handle, start, reading)
            return _unread_tail(handle, reading.end)
        except _BROKEN as exc:
            return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"

    try:
        problem = read_watched(path, read, timeout_seconds)
    except FetchError as exc:  # the thread may still add records: keep what was read by now
        return list(reading.candidates), [*reading.rejections, Rejection.from_error(
            "discover", file_url(path), source, exc)]
    if problem:
        reading.rejections.append(Rejection(
            "discover", f"{file_url(path)}#{reading.end}", source, "bad_warc",
            f"{path} cannot be read after byte {reading.end} ({problem}); "
            f"the {len(reading.candidates)} records before it are kept"))
    return reading.candidates, reading.rejections


def _read_from(handle: BinaryIO, start: int, reading: _Reading) -> int | None:
    """Reads the records from byte ``start`` on; where to go on after a broken one, None at the end."""
    handle.seek(start)
    records = ArchiveIterator(handle, arc2warc=True, no_record_parse=True)
    for record in records:
        offset = records.offset  # where this record begins (the iterator moves it past each record it ends)
        broken = check_record(records, record, record.rec_type in DOCUMENT_RECORDS)
        if broken is not None:
            reading.rejections.append(_broken_record(record, reading, offset, broken))
        if broken is not None and not broken.ended:  # where the next record begins is to be found
            after = next_record_start(handle, offset)
            reading.end = after if after is not None else reading.path.stat().st_size
            return after
        if broken is None and record.rec_type in DOCUMENT_RECORDS:
            _add_record(record, reading.path, offset, reading.source, reading.candidates, reading.rejections)
        reading.end = records.offset
    return None


def _broken_record(record: ArcWarcRecord, reading: _Reading, offset: int, broken: Broken) -> Rejection:
    """The rejection of a broken record: under its target URI, or under the file's URL and the record's
    offset when it has none to trust (a URI cut short with the header would name another page)."""
    uri = f"{file_url(reading.path)}#{offset}"
    if not broken.header_damaged:
        try:
            _check_uri(_target_uri(record), reading.path, offset)
            uri = _target_uri(record)
        except FetchError:
            pass
    return Rejection("discover", uri, reading.source, "bad_warc",
                     f"the record at byte {offset} of {reading.path} {broken.problem}; it is not loaded, "
                     "and the file's other records are read")


def _add_record(record: ArcWarcRecord, path: Path, offset: int, source: str, candidates: list[Candidate],
                rejections: list[Rejection]) -> None:
    uri = _target_uri(record)
    try:
        _check_uri(uri, path, offset)
    except FetchError as exc:
        rejections.append(Rejection.from_error("discover", uri or f"{file_url(path)}#{offset}", source, exc))
        return
    candidates.append(Candidate(uri, source, modified_hint=_warc_date(record),  # the capture date, for --since
                                archive=ArchiveRef(str(path.resolve()), offset)))


def _unread_tail(handle: BinaryIO, end: int) -> str | None:
    """What is wrong with the bytes after the last record warcio could read (it stops quietly at garbage)."""
    handle.seek(end)
    if handle.read(64).strip(b"\r\n\x00 "):
        return f"{handle.seek(0, os.SEEK_END) - end} bytes after the last whole record are not a record (truncated?)"
    return None


def _warc_date(record: ArcWarcRecord) -> datetime | None:
    value = record.rec_headers.get_header("WARC-Date")
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _status(record: ArcWarcRecord) -> str | None:
    headers: Any = record.http_headers
    return headers.get_statuscode() if headers is not None else None


def _content_type(record: ArcWarcRecord) -> str | None:
    headers: Any = record.http_headers
    declared = headers.get_header("Content-Type") if headers is not None else None
    return declared or record.rec_headers.get_header("Content-Type")


def read_archive_record(candidate: Candidate, max_bytes: int) -> Page:
    """The page in the WARC/ARC record ``candidate.archive`` points at; raises FetchError."""
    ref = candidate.archive
    assert ref is not None  # only archive candidates come here
    where = f"record at byte {ref.offset} of {ref.path}"
    try:
        with open(ref.path, "rb") as handle:
            handle.seek(ref.offset)
            record = next(iter(ArchiveIterator(handle, arc2warc=True)), None)
            if record is None:
                raise FetchError(f"{where} is missing: the file ends before it", code="bad_warc")
            status = _status(record)
            if status is not None and not status.startswith("2"):
                raise FetchError(f"{candidate.url} was archived with HTTP {status} ({where})", code="http_status")
            content = record.content_stream().read(max_bytes + 1)
    except _BROKEN as exc:
        raise FetchError(f"{where} cannot be read: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                         code="bad_warc") from exc
    if len(content) > max_bytes:
        raise FetchError(f"{where} holds more than http.max_body_bytes={max_bytes} bytes", code="too_large")
    declared = _content_type(record)
    return Page(candidate.url, candidate.url, candidate.source, content, sniff_content_type(content, declared),
                _warc_date(record) or datetime.now(UTC), candidate.title_hint, candidate.published_hint,
                charset_of(declared))
