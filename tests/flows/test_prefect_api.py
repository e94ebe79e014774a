"""The Prefect API a command's runs go to: a temporary server of its own, started without Prefect's server code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import process_running

from broadsheet.config.settings import load_settings
from broadsheet.flows import prefect_server

SCRIPT = '''
import json, sys
from broadsheet.config.settings import load_settings
from broadsheet.flows.prefect_server import prefect_api, start_early
settings = load_settings()
start_early(settings.server)  # before prefect is imported, as the CLI does
from broadsheet.flows import prefect_server
early = prefect_server._early
from prefect import flow
from prefect.settings import get_current_settings

@flow(name="hello")
def hello() -> int:
    return 1

with prefect_api(settings.server) as api_ready:
    api_ready()
    url = get_current_settings().api.url
    hello()
    import httpx
    runs = httpx.post(f"{url}/flow_runs/filter", json={}, timeout=10).json()
print(json.dumps({"url": url, "early": early.url, "pid": early.process.pid, "runs": [r["flow_id"] for r in runs],
                  "states": [r["state_type"] for r in runs],
                  "server_code": "prefect.server.api.server" in sys.modules,
                  "after": get_current_settings().api.url}))
'''



@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_run_goes_to_a_temporary_server_of_its_own_which_stops_with_the_process(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "BROADSHEET_SERVER__HOME": str(tmp_path / "bs"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["url"] == found["early"] and found["url"].startswith("http://127.0.0.1:")
    assert found["states"] == ["COMPLETED"]
    assert not found["server_code"]  # the server's code ran in its own process only
    assert not process_running(found["pid"])  # stopped as the block ended
    assert found["after"] is None  # Prefect points at no API again
    assert "Error" not in done.stderr  # the run's last logs reached the server before it stopped


def test_an_api_prefects_own_settings_give_wins_and_the_early_server_stops(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(prefect_server, "_early", None)
    monkeypatch.setattr(prefect_server, "_configured_in_prefect", lambda: None)  # as before prefect is imported
    settings = load_settings(server={"home": tmp_path}).server
    prefect_server.start_early(settings)
    early = prefect_server._early
    assert early is not None and early.process.poll() is None
    chosen = "http://127.0.0.1:9/api"
    with temporary_settings(updates={PREFECT_API_URL: chosen}), prefect_server.prefect_api(settings) as api_ready:
        api_ready()  # nothing to wait for: the chosen API is Prefect's, not ours
        assert get_current_settings().api.url == chosen
    assert early.process.poll() is not None and prefect_server._early is None
