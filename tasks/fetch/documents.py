"""Documents as bytes: media types (declared or sniffed), local files, and what can be extracted.

A local file is read by its ``file://`` URL with the same size cap as a response body, and only if it is a
regular file once opened (a FIFO or device would block the run or never end), within the same read timeout
as a response (a stalled network filesystem must not hold the run up); file names that are not
UTF-8 survive the trip through the URL as their bytes; ``.gz`` files
are decompressed under the same cap (a gzip bomb is ``too_large``, a truncated file ``bad_gzip``).
The media type of a document is the declared one unless it is missing or generic, when the first
bytes decide (HTML, XML feed or sitemap, JSON Feed).
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar, cast
from urllib.parse import unquote_to_bytes, urlsplit

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate, Page, Rejection

T = TypeVar("T")

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/feed+json", "application/json")
GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "text/plain")
_HTML_MARKER = re.compile(rb"<(?:head|body)[\s>]")
LOCAL_TYPES = {".html": "text/html", ".htm": "text/html", ".xhtml": "text/html", ".txt": "text/plain",
               ".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
               ".json": "application/json"}


def now_utc() -> datetime:
    return datetime.now(UTC)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def sniff_content_type(content: bytes, declared: str | None) -> str:
    """The declared media type, or a guess from the first bytes when it is missing or generic."""
    declared_type = media_type(declared)
    if declared_type and declared_type not in GENERIC_TYPES:
        return declared_type
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf:rdf", b"<urlset", b"<sitemapindex")):
        return "application/xml"
    if head.startswith((b"<!doctype html", b"<html")) or _HTML_MARKER.search(head):
        return "text/html"
    if head.startswith(b"{") and b"jsonfeed" in head:
        return "application/feed+json"
    return declared_type or "application/octet-stream"


def is_html(content_type: str) -> bool:
    return content_type in HTML_TYPES


def is_feed(content_type: str) -> bool:
    return content_type in FEED_TYPES or content_type.endswith(("+xml", "/xml"))


def local_path(url: str) -> Path:
    """The path of a ``file://`` URL (its bytes: a file name need not be UTF-8)."""
    return Path(os.fsdecode(unquote_to_bytes(urlsplit(url).path)))


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def read_local(candidate: Candidate, max_bytes: int, timeout_seconds: float | None = None) -> Page:
    """A local file as a page; ``.gz`` files are decompressed, both sizes capped. With ``timeout_seconds``
    (``http.timeout_seconds`` in a run), a read that takes longer is a ``timeout`` (:func:`read_regular_file`)."""
    path = local_path(candidate.url)
    raw = read_regular_file(path, max_bytes + 1, timeout_seconds)
    if len(raw) > max_bytes:
        raise FetchError(f"{path} is larger than http.max_body_bytes={max_bytes}", code="too_large")
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        raw = gunzip_capped(raw, max_bytes, str(path))
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    content_type = sniff_content_type(raw, LOCAL_TYPES.get(suffix))
    return Page(candidate.url, candidate.url, candidate.source, raw, content_type, now_utc(),
                candidate.title_hint, candidate.published_hint)


def read_regular_file(path: Path, limit: int, timeout_seconds: float | None = None) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path`` (links followed); FetchError otherwise.

    Opened without blocking, then checked: a FIFO named ``x.html`` would otherwise wait for a writer forever.
    A regular file's read waits only for its filesystem; with ``timeout_seconds`` it is read in a thread of
    its own, and one still reading then (a stalled network or FUSE mount) is a transient ``timeout``: the
    thread is left to its read, and never holds the process's exit up."""
    descriptor = _open_regular(path)
    if timeout_seconds is None:
        return _read_opened(descriptor, limit, path)
    outcome: Future[bytes] = Future()
    threading.Thread(target=_read_into, args=(outcome, descriptor, limit, path), name="broadsheet-local-read",
                     daemon=True).start()
    try:
        return outcome.result(timeout_seconds)
    except TimeoutError:
        raise FetchError(f"reading {path} took longer than http.timeout_seconds={timeout_seconds:g} (is its "
                         "filesystem a stalled network or FUSE mount?)", code="timeout", transient=True) from None


def read_watched(path: Path, work: Callable[[BinaryIO], T], timeout_seconds: float | None = None) -> T:
    """``work`` on the regular file at ``path`` opened for reading, for a file read piece by piece (a WARC).

    Opened and checked as :func:`read_regular_file` does. With ``timeout_seconds``, ``work`` runs in a thread
    of its own and may take as long as it reads on; when no byte came through for that long (checked every
    ``timeout_seconds``), the file is on a stalled filesystem: a transient ``timeout``, the thread left to
    its read. ``work`` must then not share what it fills with the caller (it may go on later)."""
    descriptor = _open_regular(path)
    if timeout_seconds is None:
        with os.fdopen(descriptor, "rb") as handle:
            return work(handle)
    reader = _CountingReader()
    outcome: Future[T] = Future()

    def run() -> None:
        try:
            with os.fdopen(descriptor, "rb") as handle:
                reader.handle = handle
                outcome.set_result(work(cast(BinaryIO, reader)))
        except BaseException as exc:  # handed to the waiting caller, which raises it
            outcome.set_exception(exc)

    threading.Thread(target=run, name="broadsheet-local-read", daemon=True).start()
    seen = 0
    while True:
        try:
            return outcome.result(timeout_seconds)
        except TimeoutError:
            if reader.bytes_read == seen:
                raise FetchError(f"reading {path} got no byte for http.timeout_seconds={timeout_seconds:g} (is "
                                 "its filesystem a stalled network or FUSE mount?)", code="timeout",
                                 transient=True) from None
            seen = reader.bytes_read


class _CountingReader:
    """The reading half of a binary file, counting the bytes read through it (how a watcher tells a long
    read from a stalled one)."""

    def __init__(self) -> None:
        self.handle: BinaryIO | None = None
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        assert self.handle is not None
        data = self.handle.read(size)
        self.bytes_read += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        assert self.handle is not None
        data = self.handle.readline(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        assert self.handle is not None
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        assert self.handle is not None
        return self.handle.tell()


def _open_regular(path: Path) -> int:
    """A descriptor of the regular file at ``path``, opened without blocking (a FIFO would wait for a writer);
    FetchError ``unreadable_file`` for anything else."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from exc
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FetchError(f"{path} is not a regular file (a folder, FIFO, socket or device); only files are read",
                         code="unreadable_file")
    return descriptor


def _read_into(outcome: Future[bytes], descriptor: int, limit: int, path: Path) -> None:
    try:
        outcome.set_result(_read_opened(descriptor, limit, path))
    except BaseException as exc:  # handed to the waiting caller, which raises it
        outcome.set_exception(exc)


def _read_opened(descriptor: int, limit: int, path: Path) -> bytes:
    with os.fdopen(descriptor, "rb") as handle:
        try:
            return handle.read(limit)
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from exc


def gunzip_capped(raw: bytes, max_bytes: int, name: str) -> bytes:
    """``raw`` gunzipped, refusing more than ``max_bytes`` of output and truncated streams."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise FetchError(f"{name} is not valid gzip: {exc}", code="bad_gzip") from exc
    if len(data) > max_bytes:
        raise FetchError(f"{name} decompresses to more than {max_bytes} bytes", code="too_large")
    if not decompressor.eof:
        raise FetchError(f"{name} is truncated: the gzip stream ends early", code="bad_gzip")
    return data


def require_html(pages: Iterable[Page]) -> tuple[list[Page], list[Rejection]]:
    """Keep pages whose content can be extracted: HTML, or plain text from a local file."""
    kept: list[Page] = []
    rejected: list[Rejection] = []
    for page in pages:
        if is_html(page.content_type) or (page.content_type == "text/plain" and page.url.startswith("file:")):
            kept.append(page)
        else:
            rejected.append(Rejection("fetch", page.url, page.source, "not_html",
                                      f"{page.final_url} is {page.content_type or 'of unknown type'}, "
                                      "not an HTML page; only HTML pages are extracted"))
    return kept, rejected


def gzip_bytes(content: bytes) -> bytes:
    return gzip.compress(content, compresslevel=6)
