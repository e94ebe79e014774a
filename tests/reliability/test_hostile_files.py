"""Hostile local files: link loops, FIFOs, non-UTF-8 names (issue 26, items 4, 5 and 11).

A FIFO's reader blocks until a writer comes, so each FIFO here gets a writer thread that offers a page
and is released at the end of the test whatever happens: on code that reads FIFOs the test fails on its
assertion instead of hanging.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadsheet.config.errors import FetchError
from broadsheet.config.records import Candidate
from broadsheet.config.settings import HttpSettings
from broadsheet.config.sources import source_from_argument
from broadsheet.tasks.discover.sources import discover_folder, discover_source
from broadsheet.tasks.fetch import file_url, read_local

PAGE = b"<html><body><article><p>A page offered through a FIFO.</p></article></body></html>"


@contextlib.contextmanager
def fifo(path: Path) -> Iterator[Path]:
    os.mkfifo(path)

    def offer() -> None:
        with contextlib.suppress(OSError), open(path, "wb") as handle:  # blocks until a reader opens
            handle.write(PAGE)

    writer = threading.Thread(target=offer, daemon=True)
    writer.start()
    try:
        yield path
    finally:
        while writer.is_alive():  # a reader of our own releases the writer, once it is waiting
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            writer.join(0.05)


def test_a_symlink_loop_is_a_rejection_and_the_rest_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.html").write_bytes(PAGE)
    (folder / "a.html").symlink_to(folder / "b.html")
    (folder / "b.html").symlink_to(folder / "a.html")
    (folder / "self.html").symlink_to(folder / "self.html")
    other = tmp_path / "other.html"
    other.write_bytes(PAGE)
    found = discover_folder(folder, "f")  # used to raise RuntimeError("Symlink loop")
    assert [c.url for c in found.candidates] == [file_url(folder / "good.html")]
    assert sorted((Path(r.url).name, r.error_type) for r in found.rejections) == [
        ("a.html", "unreadable_file"), ("b.html", "unreadable_file"), ("self.html", "unreadable_file")]
    assert "never reaches a file" in found.rejections[0].message
    assert discover_source(source_from_argument(str(other)), HttpSettings()).candidates


def test_any_exception_reading_a_source_is_a_rejection_of_that_source(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import broadsheet.tasks.discover.sources as sources

    def broken(*_: object) -> None:
        raise RuntimeError("Symlink loop from '/x'")

    monkeypatch.setattr(sources, "discover_folder", broken)
    [rejection] = discover_source(source_from_argument(str(tmp_path)), HttpSettings()).rejections
    assert (rejection.stage, rejection.error_type) == ("discover", "discover_failed")
    assert "RuntimeError" in rejection.message


def test_a_fifo_in_a_folder_or_behind_a_link_is_a_rejection(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    with fifo(tmp_path / "pipe"), fifo(folder / "direct.html"):
        (folder / "x.html").symlink_to(tmp_path / "pipe")
        (folder / "inside.html").symlink_to(folder / "direct.html")
        found = discover_folder(folder, "f")
    assert found.candidates == []
    assert sorted((Path(r.url).name, r.error_type) for r in found.rejections) == [
        ("direct.html", "unreadable_file"), ("inside.html", "unreadable_file"), ("x.html", "outside_folder")]
    assert all("not a regular file" in r.message for r in found.rejections if r.error_type == "unreadable_file")


def test_a_fifo_given_as_source_or_candidate_is_never_read(tmp_path: Path) -> None:
    with fifo(tmp_path / "x.html") as path:
        [rejection] = discover_source(source_from_argument(str(path)), HttpSettings()).rejections
        assert rejection.error_type == "unreadable_file" and "not a regular file" in rejection.message
        with pytest.raises(FetchError, match="not a regular file") as raised:
            read_local(Candidate(file_url(path), "f"), 1_000_000)  # used to block until a writer came
        assert raised.value.code == "unreadable_file"


def test_a_file_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    name = os.fsdecode(b"bad\xff caf\xe9.html")
    (tmp_path / name).write_bytes(PAGE)
    [candidate] = discover_folder(tmp_path, "f").candidates
    assert candidate.url.endswith("/bad%FF%20caf%E9.html")
    page = read_local(candidate, 1_000_000)  # used to be unreadable_file "No such file"
    assert page.content == PAGE and page.content_type == "text/html"
