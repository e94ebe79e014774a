# ruff: noqa: RUF001  (non-Latin scripts and look-alike letters are the point of these tests)
"""Hostile URLs and local paths: other schemes, private addresses however reached, huge URLs, IDNs, symlinks.

DNS is never asked: names are resolved by a patched ``socket.getaddrinfo`` (asyncio's resolver calls
it), and redirects from a "public" host come from ``httpx.MockTransport``. Already covered elsewhere:
``ftp://`` candidates and loopback literals (test_fetch.py::test_unsupported_scheme_candidate_is_rejected,
::test_private_address_is_blocked_before_any_request), a redirect to 127.0.0.1
(test_fetch.py::test_redirect_to_private_address_is_blocked), feed links to ``file:``
(test_discover.py::test_remote_feed_cannot_point_at_local_files), missing local files and folders
(test_fetch.py::test_read_local_missing_file, ::test_read_local_folder_is_unreadable).
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from broadsheet.config.records import Candidate
from broadsheet.config.settings import HttpSettings, Settings
from broadsheet.tasks.discover.sources import discover_folder
from broadsheet.tasks.extract.identity import canonical_url
from broadsheet.tasks.fetch.documents import read_local
from broadsheet.tasks.fetch.fetcher import fetch_pages
from broadsheet.tasks.fetch.guard import check_address, pin_request

PUBLIC = "93.184.216.34"
GUARDED = HttpSettings(obey_robots=False, host_delay_seconds=0, max_retries=0)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A fake resolver: name -> addresses; unknown names fail as NXDOMAIN would."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def resolve(host: str, port: object, *args: object, **kwargs: object) -> list:
        name = host.decode() if isinstance(host, bytes) else host.encode("idna").decode()
        if name not in table:
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[name]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return table


def blocked(url: str) -> str:
    outcome = fetch_pages([Candidate(url, "hostile")], GUARDED)
    assert outcome.fetches == [] and outcome.pages == []  # refused before any connection
    [rejection] = outcome.rejections
    return rejection.error_type


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/", "http://[::1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/", "http://224.0.0.1/", "http://255.255.255.255/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::1]/", "http://[2002:a00:1::]/",
])
def test_private_link_local_and_special_addresses_are_blocked(url: str, dns: dict[str, list[str]]) -> None:
    assert blocked(url) == "blocked_address"


def test_names_that_resolve_to_private_addresses_are_blocked(dns: dict[str, list[str]]) -> None:
    dns.update({"intranet.example": ["10.1.2.3"], "metadata.example": ["169.254.169.254"],
                "mixed.example": [PUBLIC, "127.0.0.1"], "v6.example": ["fe80::1"]})
    for name in dns:
        assert blocked(f"http://{name}/story") == "blocked_address", name


def test_localhost_by_name_is_blocked() -> None:
    assert blocked("http://localhost/") == "blocked_address"


def test_a_redirect_to_a_name_that_resolves_privately_is_blocked(dns: dict[str, list[str]]) -> None:
    dns["internal.example"] = ["10.9.8.7"]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://internal.example/admin"})

    outcome = fetch_pages([Candidate(f"http://{PUBLIC}/story", "hostile")], GUARDED,
                          transport=httpx.MockTransport(handler))
    assert seen == [f"http://{PUBLIC}/story"]
    assert [(r.error_type, "10.9.8.7" in r.message) for r in outcome.rejections] == [("blocked_address", True)]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1:70/"])
def test_a_redirect_to_another_scheme_is_refused(httpserver: HTTPServer, settings: Settings, target: str) -> None:
    httpserver.expect_request("/r").respond_with_data("", status=302, headers={"Location": target})
    outcome = fetch_pages([Candidate(httpserver.url_for("/r"), "hostile")], settings.http)
    assert outcome.pages == []
    assert [r.error_type for r in outcome.rejections] == ["unsupported_scheme"]


def test_a_file_url_in_a_url_list_is_rejected(tmp_path: Path) -> None:
    from broadsheet.tasks.discover.sources import discover_url_list

    listing = tmp_path / "urls.txt"
    listing.write_text("file:///etc/passwd\nftp://example.com/a\nhttps://n.example/ok\n")
    found = discover_url_list(listing, "hostile")
    assert [c.url for c in found.candidates] == ["https://n.example/ok"]
    assert [r.error_type for r in found.rejections] == ["invalid_url", "invalid_url"]


def test_a_url_list_with_a_file_line_is_still_a_url_list(tmp_path: Path) -> None:
    from broadsheet.config.settings import HttpSettings
    from broadsheet.config.sources import source_from_argument
    from broadsheet.tasks.discover.sources import discover_source

    listing = tmp_path / "urls.txt"
    listing.write_text("https://n.example/one\nfile:///etc/passwd\nhttps://n.example/two\n")
    found = discover_source(source_from_argument(str(listing)), HttpSettings())  # was one .txt "article"
    assert [c.url for c in found.candidates] == ["https://n.example/one", "https://n.example/two"]
    assert [(r.url, r.error_type) for r in found.rejections] == [("file:///etc/passwd", "invalid_url")]


def test_an_extremely_long_url_is_invalid_without_a_request(httpserver: HTTPServer, settings: Settings) -> None:
    url = httpserver.url_for("/a") + "?q=" + "x" * 100_000
    outcome = fetch_pages([Candidate(url, "hostile")], settings.http)
    [rejection] = outcome.rejections
    assert (rejection.error_type, outcome.fetches, len(httpserver.log)) == ("invalid_url", [], 0)
    assert len(rejection.message) < 1000  # the message quotes the URL cut short


def test_a_long_url_within_limits_is_fetched(httpserver: HTTPServer, settings: Settings) -> None:
    httpserver.expect_request("/a").respond_with_data("<html><body>ok</body></html>", content_type="text/html")
    outcome = fetch_pages([Candidate(httpserver.url_for("/a") + "?q=" + "x" * 8000, "hostile")], settings.http)
    assert len(outcome.pages) == 1 and outcome.rejections == []


def test_idn_hosts_are_checked_and_sent_as_punycode(dns: dict[str, list[str]]) -> None:
    dns["xn--bcher-kva.example"] = [PUBLIC]
    dns["xn--80ak6aa92e.com"] = ["10.0.0.8"]  # a Cyrillic look-alike name that points inside
    assert asyncio.run(check_address("http://bücher.example/story", GUARDED)) == PUBLIC
    request = pin_request(httpx.Request("GET", "http://bücher.example/story"), PUBLIC)
    assert request.headers["Host"] == "xn--bcher-kva.example" and request.url.host == PUBLIC
    assert blocked("http://аррӏе.com/") == "blocked_address"
    assert canonical_url("https://Bücher.EXAMPLE/a#top") == "https://xn--bcher-kva.example/a"
    assert canonical_url("https://xn--bcher-kva.example/a") == "https://xn--bcher-kva.example/a"


# -- local paths --------------------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inside, outside = tmp_path / "pages", tmp_path / "secret"
    (inside / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "passwords.html").write_text("<p>secret</p>")
    (inside / "story.html").write_text("<p>story</p>")
    (inside / "sub" / "alias.html").symlink_to(inside / "story.html")  # a link that stays inside
    (inside / "escape.html").symlink_to(outside / "passwords.html")
    (inside / "dotdot.html").symlink_to(Path("..") / "secret" / "passwords.html")
    (inside / "outdir").symlink_to(outside, target_is_directory=True)
    (inside / "broken.html").symlink_to(tmp_path / "nowhere.html")
    (inside / "loop").symlink_to(inside, target_is_directory=True)
    (inside / "folder.html").mkdir()  # a folder where a file is expected
    return inside


def test_symlinks_out_of_the_folder_are_rejected_and_never_read(folder: Path) -> None:
    found = discover_folder(folder, "local")
    assert sorted(Path(c.url).name for c in found.candidates) == ["story.html", "story.html"]
    assert all("secret" not in c.url for c in found.candidates)
    assert sorted((Path(r.url).name, r.error_type) for r in found.rejections) == [
        ("broken.html", "unreadable_file"), ("dotdot.html", "outside_folder"), ("escape.html", "outside_folder")]
    [message] = [r.message for r in found.rejections if r.url.endswith("escape.html")]
    assert "outside the folder" in message and "copy the file in" in message


def test_unreadable_local_file_is_a_rejection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads a chmod-000 file, so the refusal is simulated where the file is opened."""
    page = tmp_path / "locked.html"
    page.write_text("<p>x</p>")
    real_open = os.open

    def refuse(path: object, *args: object, **kwargs: object) -> object:
        if Path(str(path)) == page:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    outcome = fetch_pages([Candidate(page.as_uri(), "local")], GUARDED)
    [rejection] = outcome.rejections
    assert (rejection.error_type, "Permission denied" in rejection.message) == ("unreadable_file", True)


def test_a_folder_or_broken_link_where_a_file_is_expected(tmp_path: Path) -> None:
    (tmp_path / "dir.html").mkdir()
    (tmp_path / "gone.html").symlink_to(tmp_path / "missing.html")
    for name in ("dir.html", "gone.html"):
        with pytest.raises(Exception) as caught:
            read_local(Candidate((tmp_path / name).as_uri(), "local"), 1000)
        assert getattr(caught.value, "code", None) == "unreadable_file"
