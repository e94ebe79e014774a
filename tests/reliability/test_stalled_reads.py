"""A local read that never returns (a stalled network or FUSE mount) is a ``timeout``, not a hung run.

A regular file's read blocks only while its filesystem does, which a test cannot make happen without
mounting one: opening the file for reading is patched to wait, as the first read of a stalled mount would,
or to hand out a file whose reads wait or are slow. A page is read whole within the timeout; a WARC file,
read piece by piece, is a timeout only when no byte comes for that long.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from broadsheet.config.records import Candidate
from broadsheet.config.settings import HttpSettings
from broadsheet.config.sources import SourceConfig
from broadsheet.tasks.discover import discover_source
from broadsheet.tasks.fetch import discover_archive, fetch_pages, file_url

PAGE = b"<html><head><title>Harbour</title></head><body><p>The harbour reopened on Monday.</p></body></html>"


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="names an open file from /proc")
def test_a_local_read_that_stalls_is_a_timeout_and_the_other_files_are_read(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    stalled, fine = tmp_path / "stalled.html", tmp_path / "fine.html"
    stalled.write_bytes(PAGE)
    fine.write_bytes(PAGE)
    release = threading.Event()
    real = os.fdopen

    def fdopen(descriptor: int, *args: Any, **kwargs: Any) -> Any:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith("stalled.html"):
            release.wait()  # as the first read of a file on a stalled mount would
        return real(descriptor, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen)
    lets_go = threading.Timer(30, release.set)  # where reads are not timed out, the test fails rather than hangs
    lets_go.start()
    try:
        outcome = fetch_pages([Candidate(file_url(stalled), "local"), Candidate(file_url(fine), "local")],
                              HttpSettings(timeout_seconds=1))
    finally:
        release.set()
        lets_go.cancel()
    assert [page.url for page in outcome.pages] == [file_url(fine)]
    assert [(r.url, r.error_type) for r in outcome.rejections] == [(file_url(stalled), "timeout")]
    assert "took longer than http.timeout_seconds=1" in outcome.rejections[0].message


URLS = [f"https://coast.example/story-{i}" for i in range(4)]


def warc(path: Path) -> Path:
    """Four response records of ~40 kB each, uncompressed (so a byte of the file is a byte read)."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=False)
        for i, url in enumerate(URLS):
            words = " ".join(f"harbour{i}-{n} council{n % 11}" for n in range(2000)).encode()
            page = b"<html><head><title>Story</title></head><body><p>" + words + b"</p></body></html>"
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(page),
                                                          http_headers=headers))
    return path


class Reads:
    """A file whose reads wait for ``release`` once they reach byte ``stall_at`` (as on a stalled mount), or
    take ``pause`` seconds each (as on a slow one)."""

    def __init__(self, handle: Any, stall_at: int | None, pause: float, release: threading.Event) -> None:
        self.handle, self.stall_at, self.pause, self.release, self.count = handle, stall_at, pause, release, 0

    def _wait(self) -> None:
        if self.stall_at is not None and self.handle.tell() >= self.stall_at:
            self.release.wait()
        time.sleep(self.pause)
        self.count += 1

    def read(self, size: int = -1) -> bytes:
        self._wait()
        return self.handle.read(size)

    def readline(self, size: int = -1) -> bytes:
        self._wait()
        return self.handle.readline(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    def __enter__(self) -> Reads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@pytest.fixture
def slow_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., list[Reads]]]:
    """``slow(name, stall_at=..., pause=...)``: files whose name ends so are read as :class:`Reads` says;
    returns the list of those opened so far. Stalled reads go on after the test (or after 30 s, where reads
    are not timed out: the test then fails rather than hangs)."""
    release, opened, ways = threading.Event(), [], {}
    real = os.fdopen

    def fdopen(descriptor: int, *args: Any, **kwargs: Any) -> Any:
        handle = real(descriptor, *args, **kwargs)
        name = os.readlink(f"/proc/self/fd/{descriptor}")
        for ending, (stall_at, pause) in ways.items():
            if name.endswith(ending):
                opened.append(Reads(handle, stall_at, pause, release))
                return opened[-1]
        return handle

    def slow(name: str, stall_at: int | None = None, pause: float = 0.0) -> list[Reads]:
        ways[name] = (stall_at, pause)
        return opened

    monkeypatch.setattr(os, "fdopen", fdopen)

    lets_go = threading.Timer(30, release.set)
    lets_go.start()
    try:
        yield slow
    finally:
        release.set()
        lets_go.cancel()


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="names an open file from /proc")
def test_a_warc_or_url_list_source_that_stalls_is_a_timeout_and_the_others_are_read(
        tmp_path: Path, slow_files: Callable[..., list[Reads]]) -> None:
    (tmp_path / "folder").mkdir()
    warc(tmp_path / "folder" / "stalled.warc")
    (tmp_path / "folder" / "page.html").write_bytes(PAGE)
    warc(tmp_path / "stalled.warc")
    (tmp_path / "stalled.txt").write_text("https://coast.example/a\nhttps://coast.example/b\n")
    warc(tmp_path / "fine.warc")
    slow_files("stalled.warc", stall_at=0)
    slow_files("stalled.txt", stall_at=0)
    http = HttpSettings(timeout_seconds=1)
    found = {name: discover_source(SourceConfig(name=name, location=str(tmp_path / name)), http)
             for name in ("stalled.warc", "stalled.txt", "folder", "fine.warc")}
    for name in ("stalled.warc", "stalled.txt"):
        assert (found[name].candidates, [r.error_type for r in found[name].rejections]) == ([], ["timeout"]), name
        assert "got no byte for http.timeout_seconds=1" in found[name].rejections[0].message or \
               "took longer than http.timeout_seconds=1" in found[name].rejections[0].message
    assert [c.url for c in found["folder"].candidates] == [file_url(tmp_path / "folder" / "page.html")]
    assert [r.error_type for r in found["folder"].rejections] == ["timeout"]
    assert [c.url for c in found["fine.warc"].candidates] == URLS
    assert found["fine.warc"].rejections == []


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="names an open file from /proc")
def test_a_warc_that_stalls_midway_keeps_the_records_read_before(tmp_path: Path,
                                                                 slow_files: Callable[..., list[Reads]]) -> None:
    path = warc(tmp_path / "crawl.warc")
    slow_files("crawl.warc", stall_at=path.stat().st_size // 2)
    candidates, rejections = discover_archive(path, "crawl", timeout_seconds=1)
    assert [c.url for c in candidates] == URLS[:len(candidates)] and 0 < len(candidates) < len(URLS)
    assert [r.error_type for r in rejections] == ["timeout"]


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="names an open file from /proc")
def test_a_slow_warc_whose_reads_go_on_is_read_whole(tmp_path: Path,
                                                     slow_files: Callable[..., list[Reads]]) -> None:
    path = warc(tmp_path / "crawl.warc")
    opened = slow_files("crawl.warc", pause=0.2)
    candidates, rejections = discover_archive(path, "crawl", timeout_seconds=1)
    assert [c.url for c in candidates] == URLS and rejections == []
    assert sum(reads.count for reads in opened) * 0.2 > 1  # the whole read took longer than the timeout
