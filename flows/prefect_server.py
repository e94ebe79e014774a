"""A local Prefect server for broadsheet: its UI, run history and schedules on 127.0.0.1.

``broadsheet server`` starts ``prefect server start`` with telemetry and promotional content off
and its database under ``server.home``, and writes a state file there while it runs. Other
broadsheet commands read that file and send their runs to the server (unless PREFECT_API_URL
says otherwise), so what the demo, ``ingest`` and ``serve`` do shows in the UI. Without either, ``ingest``
starts a temporary server of its own (:func:`start_prefect_api`), in the background while it starts.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import ServerSettings, prefect_api_url, prefect_environment, use_prefect_api

STATE_FILE = "server.json"
TEMPORARY_SERVER_STARTUP_SECONDS = 120.0  # a busy 2-core machine can take a minute


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


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(f"{url}/health").status_code == 200
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


@dataclass
class PrefectApi:
    """The Prefect API this process's flow runs go to, and the temporary server serving it, if ours."""

    url: str
    process: subprocess.Popen[bytes] | None = None

    def use(self) -> str:
        """Point this process's Prefect client at this API once it answers (call it after prefect is imported, before
        the first flow run), and return the URL runs go to. An API Prefect's own settings give (a profile's
        PREFECT_API_URL, a test harness) wins: a temporary server of ours then stops unused."""
        from prefect.context import refresh_global_settings_context
        from prefect.settings import get_current_settings

        configured = get_current_settings().api.url
        if configured:
            if configured != self.url:
                self.stop()
                self.url, self.process = configured, None
            return configured
        self._wait()
        use_prefect_api(self.url)
        refresh_global_settings_context()  # the process's settings were read from the environment at import
        return self.url

    def _wait(self, seconds: float = TEMPORARY_SERVER_STARTUP_SECONDS) -> None:
        """Return once a temporary server answers; one that exits or stays silent is a ConfigError."""
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=2.0) as client:  # one client: each new one costs milliseconds of CPU (TLS setup)
            while self.process is not None and not _answers(client, self.url):
                if self.process.poll() is not None:
                    raise ConfigError(f"Prefect's temporary server exited at start (code {self.process.returncode}): "
                                      "run `broadsheet --verbose ingest ...` to see why, or start `broadsheet server`")
                if time.monotonic() > deadline:
                    raise ConfigError(f"Prefect's temporary server did not answer within {seconds:.0f} s")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_api: PrefectApi | None = None


def start_prefect_api(settings: ServerSettings) -> PrefectApi:
    """The API this process's runs go to: PREFECT_API_URL's, else the server ``broadsheet server`` started, else a
    temporary server of this process's own, started now and stopped when the process exits (once per process).

    Returns at once, needing no prefect import: a temporary server starts while the caller goes on (importing
    prefect, starting workers). Call :meth:`PrefectApi.use` before the first flow run."""
    global _api
    if _api is None:
        chosen = prefect_api_url() or _configured_in_prefect() or running_server_url(settings)
        _api = PrefectApi(chosen) if chosen else _start_temporary_server()
    return _api


def _configured_in_prefect() -> str | None:
    """The API Prefect's settings give, when prefect is imported already (else reading them would import it)."""
    if "prefect" not in sys.modules:
        return None
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def _start_temporary_server() -> PrefectApi:
    """Prefect's API app (no UI) in a uvicorn process on a free loopback port, as Prefect starts its own temporary
    server, but without importing the server's code (seconds of CPU) into this process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**prefect_environment(), **os.environ, "PREFECT_UI_ENABLED": "0",
                   "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    environment.pop("PREFECT_API_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "error", "--lifespan", "on"], env=environment)
    api = PrefectApi(f"http://127.0.0.1:{port}/api", process)
    atexit.register(api.stop)  # runs after the exit handlers Prefect registers later, which send it the last logs
    return api


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
