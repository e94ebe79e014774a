"""A local Prefect server for broadsheet: its UI, run history and schedules on 127.0.0.1.

``broadsheet server`` starts ``prefect server start`` with telemetry and promotional content off
and its database under ``server.home``, and writes a state file there while it runs. Other
broadsheet commands read that file and send their runs to the server (unless PREFECT_API_URL
says otherwise), so what the demo, ``ingest`` and ``serve`` do shows in the UI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import httpx

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import ServerSettings, prefect_api_url, prefect_environment, use_prefect_api

STATE_FILE = "server.json"


def server_environment(settings: ServerSettings, port: int) -> dict[str, str]:
    """The environment of the server process: our defaults, its own home and database, its UI's API."""
    environment = {**os.environ, **prefect_environment()}
    environment["PREFECT_HOME"] = str(settings.home.resolve())
    environment["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
    environment.pop("PREFECT_API_URL", None)
    return environment


def is_healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def running_server_url(settings: ServerSettings) -> str | None:
    """The API URL of a broadsheet-started server that answers, or None."""
    try:
        state = json.loads((settings.home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = state.get("api_url") if isinstance(state, dict) else None
    return url if isinstance(url, str) and is_healthy(url) else None


def use_running_server(settings: ServerSettings) -> str | None:
    """Send runs to the server `broadsheet server` started, unless PREFECT_API_URL chose one; the API URL used."""
    chosen = prefect_api_url()
    if chosen:
        return chosen
    url = running_server_url(settings)
    if url:
        use_prefect_api(url)
    return url


def start_temporary_api() -> threading.Thread:
    """Start Prefect's temporary server in the background (no API chosen): it takes seconds, the workers'
    models and our imports load meanwhile. Join the thread before running a flow. A server that cannot start
    is reported by the flow, which tries again."""
    def start() -> None:
        from prefect.client.orchestration import get_client

        with contextlib.suppress(Exception):
            get_client(sync_client=True)

    thread = threading.Thread(target=start, name="broadsheet-prefect-api", daemon=True)
    thread.start()
    return thread


def start_server(settings: ServerSettings, port: int, startup_seconds: float = 120.0) -> subprocess.Popen[bytes]:
    """Start the server process and wait until it answers; records its URL in the state file."""
    if running_server_url(settings):
        raise ConfigError(f"a broadsheet Prefect server already runs (state in {settings.home / STATE_FILE})")
    settings.home.mkdir(parents=True, exist_ok=True)
    prefect = Path(sys.executable).with_name("prefect")
    process = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_environment(settings, port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    api_url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + startup_seconds
    while not is_healthy(api_url):
        if process.poll() is not None:
            detail = process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else ""
            raise ConfigError(f"the Prefect server exited at start (is port {port} in use?): {detail}")
        if time.monotonic() > deadline:
            process.terminate()
            raise ConfigError(f"the Prefect server did not answer within {startup_seconds:.0f} s")
        time.sleep(0.5)
    state = {"api_url": api_url, "ui_url": f"http://127.0.0.1:{port}", "pid": process.pid}
    (settings.home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    return process


def stop_server(settings: ServerSettings, process: subprocess.Popen[bytes]) -> int:
    """Stop the server process and remove its state file; returns its exit code."""
    (settings.home / STATE_FILE).unlink(missing_ok=True)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def serve_until_stopped(settings: ServerSettings, process: subprocess.Popen[bytes]) -> None:
    """Block until SIGINT/SIGTERM or the server's own exit, then stop it cleanly."""
    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_server(settings, process)
