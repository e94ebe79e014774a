"""Shared fixtures: offline settings, a warehouse under tmp_path, and Prefect's test harness.

Nothing here reaches beyond 127.0.0.1: HTTP tests use pytest-httpserver (a real server on
loopback), and the flow tests run against a temporary Prefect server started once per session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from broadsheet.config.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE_TEXT = SHARED / "samples" / "us-senators-meet-mek-leader-in-tirana.txt"
CORPUS = REPO / "flows" / "demo_corpus"


@pytest.fixture(autouse=True)
def _own_environment() -> Iterator[None]:
    """Each test starts from the session's environment: the CLI sets variables in its own process
    (``PREFECT_LOGGING_LEVEL`` when not ``--verbose``), and a CLI run in-process must not pass them on to
    the subprocesses of later tests."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a fresh warehouse under tmp_path and loopback fetching allowed.

    Politeness is off (no robots.txt, no delay between requests, no retries) so each test sees exactly
    the requests it makes; tests of politeness turn it back on.
    """
    return load_settings(warehouse={"path": tmp_path / "warehouse.duckdb"},
                         http={"allow_private_addresses": True, "timeout_seconds": 5.0,
                               "total_timeout_seconds": 10.0, "obey_robots": False,
                               "host_delay_seconds": 0.0, "max_retries": 0})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what the fixtures say: a flow under Prefect's harness (``prefect``), a DuckLake warehouse
    (``ducklake``); both are ``slow``."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "prefect_harness" in names:
            item.add_marker(pytest.mark.prefect)
            item.add_marker(pytest.mark.slow)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "lake" in names or "ducklake" in params.values():
            item.add_marker(pytest.mark.ducklake)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server for the whole session (flow tests ask for it)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_warehouse(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a warehouse holding what ``broadsheet demo`` loads (the real ingest flow), built once."""
    from broadsheet.config.sources import SourceConfig
    from broadsheet.flows.demo import demo_site
    from broadsheet.flows.ingest import ingest_flow

    settings = load_settings(warehouse={"path": tmp_path_factory.mktemp("demo") / "demo.duckdb"},
                             http={"allow_private_addresses": True, "obey_robots": False, "max_retries": 0})
    with demo_site() as feed:
        ingest_flow([SourceConfig(name="demo", location=feed, kind="feed")], settings)
    return settings
