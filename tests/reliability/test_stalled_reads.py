"""A local read that never returns (a stalled network or FUSE mount) is a ``timeout``, not a hung run.

A regular file's read blocks only while its filesystem does, which a test cannot make happen without
mounting one: opening the file for reading is patched to wait, as the first read of a stalled mount would.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from broadsheet.config.records import Candidate
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.fetch import fetch_pages, file_url

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
