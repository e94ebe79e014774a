"""Schedules and deployments: parsing, one deployment per scheduled source, prefect.yaml, a real server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import yaml

from broadsheet.config import ConfigError
from broadsheet.config.sources import Schedule, SourceConfig, parse_schedule
from broadsheet.flows.schedule import deployment_name, deployment_options, scheduled_sources

REPO = Path(__file__).resolve().parents[2]
BROADSHEET = Path(sys.executable).with_name("broadsheet")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", Schedule(interval_seconds=900)), ("90s", Schedule(interval_seconds=90)),
     ("2h", Schedule(interval_seconds=7200)), ("1d", Schedule(interval_seconds=86400)),
     ("*/30 * * * *", Schedule(cron="*/30 * * * *")), ("0 6 * * mon-fri", Schedule(cron="0 6 * * mon-fri"))],
)
def test_parse_schedule(text: str, expected: Schedule) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(("text", "phrase"), [("5s", "shorter than 10 seconds"), ("often", "neither an interval"),
                                              ("61 * * * *", "neither an interval")])
def test_bad_schedules_are_refused(text: str, phrase: str) -> None:
    with pytest.raises(ValueError, match=phrase):
        parse_schedule(text)
    with pytest.raises(ValueError, match=phrase):
        SourceConfig(name="a", location="https://x.example/rss", schedule=text)


def test_deployment_per_scheduled_source() -> None:
    sources = [SourceConfig(name="World News", location="https://x.example/rss", kind="feed", schedule="15m"),
               SourceConfig(name="archive", location="/srv/pages", schedule="0 3 * * *"),
               SourceConfig(name="off", location="/srv/off", schedule="1h", enabled=False),
               SourceConfig(name="manual", location="/srv/manual")]
    chosen = scheduled_sources(sources)
    assert [s.name for s in chosen] == ["World News", "archive"]
    world, archive = (deployment_options(s) for s in chosen)
    assert world["name"] == "ingest-world-news" and world["interval"] == 900 and "cron" not in world
    assert archive["cron"] == "0 3 * * *"
    assert world["concurrency_limit"] == 1  # two runs of one source never overlap
    assert world["tags"] == ["broadsheet", "source:World News"]
    assert world["parameters"] == {"sources": [{"name": "World News", "location": "https://x.example/rss",
                                                "kind": "feed", "schedule": "15m", "enabled": True,
                                                "http": {}, "extract": {}, "pipeline": {}}]}


def test_no_scheduled_source_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no enabled source has a schedule"):
        scheduled_sources([SourceConfig(name="a", location="/x")])
    assert deployment_name(SourceConfig(name="!!!", location="/x")) == "ingest-source"


def test_prefect_yaml_deploys_the_ingest_flow() -> None:
    project = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in project["deployments"]:
        path, _, name = deployment["entrypoint"].partition(":")
        assert (REPO / path).is_file() and name == "ingest_flow"
        for source in deployment["parameters"]["sources"]:
            SourceConfig.model_validate(source)
        assert deployment["concurrency_limit"] == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(predicate, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(1)


def _flow_runs(api: str) -> list[dict]:
    return httpx.post(f"{api}/flow_runs/filter", json={}, timeout=10).json()  # type: ignore[no-any-return]


@pytest.mark.slow
def test_server_and_a_scheduled_ingest(tmp_path: Path) -> None:
    """`broadsheet server` runs, `broadsheet serve` runs a 10 s schedule on it, both stop on SIGTERM."""
    port = _free_port()
    cache = Path(tempfile.mkdtemp(prefix="bw-", dir="/tmp"))  # short: the warm workers' socket lives there
    env = {**os.environ, "BROADSHEET_SERVER__HOME": str(tmp_path / "prefect"),
           "BROADSHEET_WAREHOUSE__PATH": str(tmp_path / "w.duckdb"), "XDG_CACHE_HOME": str(cache),
           "BROADSHEET_PIPELINE__WORKER_IDLE_SECONDS": "5"}
    env.pop("PREFECT_API_URL", None)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "corpus"\nlocation = "{REPO / "flows" / "demo_corpus"}"\n'
                       'schedule = "10s"\n')
    server = subprocess.Popen([str(BROADSHEET), "server", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    serve = None
    try:
        state = tmp_path / "prefect" / "server.json"
        _wait_for(state.exists, 120, "the server's state file")
        api = json.loads(state.read_text())["api_url"]
        assert api == f"http://127.0.0.1:{port}/api"
        serve = subprocess.Popen([str(BROADSHEET), "serve", "--sources", str(sources)], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _wait_for(lambda: any(r["state_type"] == "COMPLETED" for r in _flow_runs(api)), 150, "a completed run")
        run = next(r for r in _flow_runs(api) if r["state_type"] == "COMPLETED")
        assert run["name"] == "ingest corpus"
        assert "source:corpus" in run["tags"] and run["deployment_id"]
        limit = httpx.get(f"{api}/v2/concurrency_limits/broadsheet-warehouse-writer", timeout=10).json()
        assert limit["limit"] == 1
        assert _warm_workers(cache)  # the scheduled run handed its documents to the warm workers' service
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
    finally:
        if serve is not None and serve.poll() is None:
            serve.kill()
        server.send_signal(signal.SIGTERM)
        server_exit = server.wait(timeout=60)
    assert not (tmp_path / "prefect" / "server.json").exists()
    assert server_exit in (0, -signal.SIGTERM, 143)
    _wait_for(lambda: not _warm_workers(cache), 120, "the warm workers to end once idle")
    shutil.rmtree(cache, ignore_errors=True)


def _warm_workers(cache: Path) -> list[int]:
    """The warm workers' service of this cache folder and its workers, while they run."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if str(cache) in " ".join(process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found += [process.pid, *(child.pid for child in process.children())]
    return found
