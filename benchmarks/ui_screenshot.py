"""Screenshot the Prefect UI after a scheduled ingest: the run, its task runs, and its summary artifact.

Starts ``broadsheet server`` on a free port, serves the demo site on 127.0.0.1, runs ``broadsheet
serve`` on a 10-second schedule of its feed until one run completes, then has headless Chromium
(Debian's ``chromium``) photograph the flow run page and the run's ``ingest-summary`` artifact.
Everything runs in a temporary folder and stops by itself.

    python benchmarks/ui_screenshot.py [--out docs/]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from broadsheet.flows.demo import demo_site

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise SystemExit(f"timed out after {seconds:.0f} s waiting for {what}")


def completed_run(api: str) -> dict | None:
    runs = httpx.post(f"{api}/flow_runs/filter", json={"sort": "START_TIME_DESC"}, timeout=10).json()
    return next((r for r in runs if r["state_type"] == "COMPLETED" and r["deployment_id"]), None)


def summary_artifact(api: str, flow_run_id: str) -> dict | None:
    body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}, "key": {"any_": ["ingest-summary"]}}}
    artifacts = httpx.post(f"{api}/artifacts/filter", json=body, timeout=10).json()
    return artifacts[0] if artifacts else None


def screenshot(url: str, path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed: apt-get install chromium")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1440,1000", "--virtual-time-budget=15000", f"--screenshot={path}", url],
                   check=True, capture_output=True, timeout=120)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    args = parser.parse_args()
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    with tempfile.TemporaryDirectory() as work, demo_site() as feed:
        env = {**os.environ, "BROADSHEET_SERVER__HOME": f"{work}/prefect", "BROADSHEET_WAREHOUSE__PATH":
               f"{work}/w.duckdb", "BROADSHEET_HTTP__ALLOW_PRIVATE_ADDRESSES": "true"}
        env.pop("PREFECT_API_URL", None)
        Path(work, "sources.toml").write_text(f'[[sources]]\nname = "demo-post"\nkind = "feed"\n'
                                              f'location = "{feed}"\nschedule = "10s"\n')
        server = subprocess.Popen([str(BIN / "broadsheet"), "server", "--port", str(port)], cwd=work, env=env)
        serve = None
        try:
            wait_for(lambda: Path(work, "prefect", "server.json").exists(), 120, "the Prefect server")
            serve = subprocess.Popen([str(BIN / "broadsheet"), "serve", "--sources", "sources.toml"], cwd=work,
                                     env=env)
            run = wait_for(lambda: completed_run(api), 180, "a completed scheduled run")
            assert isinstance(run, dict)
            artifact = wait_for(lambda: summary_artifact(api, run["id"]), 30, "the run's summary artifact")
            assert isinstance(artifact, dict)
            args.out.mkdir(parents=True, exist_ok=True)
            screenshot(f"http://127.0.0.1:{port}/runs/flow-run/{run['id']}", args.out / "prefect-ui-run.png")
            screenshot(f"http://127.0.0.1:{port}/artifacts/artifact/{artifact['id']}",
                       args.out / "prefect-ui-summary-artifact.png")
        finally:
            for process in (serve, server):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)


if __name__ == "__main__":
    main()
