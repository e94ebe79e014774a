"""A local Prefect server for broadsheet: its UI, run history and schedules on 127.0.0.1.

``broadsheet server`` starts ``prefect server start`` with telemetry and promotional content off
and its database under ``server.home``, and writes a state file there while it runs. Other
broadsheet commands read that file and send their runs to the server (unless PREFECT_API_URL
says otherwise), so what the demo, ``ingest`` and ``serve`` do shows in the UI. With no server to
report to, a run starts a temporary one of its own (:func:`start_temporary_api`) that ends with it: the CLI
starts it before importing prefect (:func:`start_early`), so that it starts meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from broadsheet.config.errors import BroadsheetError, ConfigError
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
    """Send runs to the server `broadsheet server` started, unless Prefect is pointed at one already
    (PREFECT_API_URL, a profile, a test harness); the API URL used."""
    chosen = current_api_url()
    if chosen:
        return chosen
    url = running_server_url(settings)
    if url:
        point_prefect_at(url)
    return url


def current_api_url() -> str | None:
    """The Prefect API this process reports to, if one is chosen."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or prefect_api_url()


def point_prefect_at(url: str | None) -> None:
    """Point this process's Prefect client at ``url`` (None: at no API), even once Prefect is imported."""
    if url is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        use_prefect_api(url)
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


@dataclass
class TemporaryAPI:
    """Prefect's temporary server of this process (:mod:`.temporary_api`) and the API URL it serves."""

    process: subprocess.Popen[bytes]
    url: str

    def wait_until_ready(self) -> None:
        """Wait for the server to answer, for Prefect's ``server.ephemeral.startup_timeout_seconds``."""
        from prefect.settings import get_current_settings

        seconds = get_current_settings().server.ephemeral.startup_timeout_seconds
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=2.0) as client:  # one client: each new one costs milliseconds of CPU (TLS setup)
            while not _answers(client, self.url):
                if self.process.poll() is not None:
                    raise BroadsheetError(f"Prefect's temporary server exited at start (exit "
                                          f"{self.process.returncode}); start `broadsheet server`, or set "
                                          "PREFECT_API_URL, and run again")
                if time.monotonic() > deadline:
                    raise BroadsheetError(f"Prefect's temporary server did not answer within {seconds} s "
                                          "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); start `broadsheet "
                                          "server`, or set PREFECT_API_URL, and run again")
                time.sleep(0.1)

    def stop(self) -> None:
        """Send the server what Prefect still holds for it (log lines, events), stop it, and point Prefect at
        no API again."""
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        for service in (APILogWorker, EventsWorker):
            service.drain_all(timeout=5, at_exit=False)
        point_prefect_at(None)
        _stop(self.process, seconds=5)


_early: TemporaryAPI | None = None  # started by start_early, for the next prefect_api block to use


def start_early(settings: ServerSettings) -> None:
    """Start the temporary server this process's run will need, before prefect is imported (which takes
    seconds, as the server's start does: they overlap), unless an API is chosen already: PREFECT_API_URL's,
    Prefect's own settings' (when prefect is imported: reading them would import it), or the server
    ``broadsheet server`` started. The next :func:`prefect_api` block uses it (or stops it, unused, when
    Prefect's settings turn out to name an API). Needs no prefect import, nor Prefect's server code."""
    global _early
    if _early is None and not (prefect_api_url() or _configured_in_prefect() or running_server_url(settings)):
        _early = start_temporary_api()


def _configured_in_prefect() -> str | None:
    """The API Prefect's settings give, when prefect is imported already."""
    if "prefect" not in sys.modules:
        return None
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


@contextlib.contextmanager
def prefect_api(settings: ServerSettings) -> Iterator[Callable[[], None]]:
    """Prefect pointed at an API for the block: the one chosen (PREFECT_API_URL, a profile, a test harness),
    else the server `broadsheet server` started, else a temporary server of this process (the one
    :func:`start_early` started, or one started now), stopped when the block ends.
    Yields a function that waits until the API answers: call it before running a flow."""
    global _early
    api, _early = _early, None
    if api is not None and current_api_url():  # Prefect's settings name an API: the early server is not needed
        _stop(api.process, seconds=5)
        api = None
    elif api is None and not use_running_server(settings):
        api = start_temporary_api()
    if api is not None:
        point_prefect_at(api.url)
    try:
        yield api.wait_until_ready if api is not None else lambda: None
    finally:
        if api is not None:
            api.stop()


def start_temporary_api() -> TemporaryAPI:
    """Start Prefect's temporary server for this process (without importing prefect, or its server's code).

    Returns while the server starts (seconds: prefect's import, the workers' models load meanwhile); point
    Prefect at it and call :meth:`TemporaryAPI.wait_until_ready` before running a flow (:func:`prefect_api`
    does). The server ends with this process, even one killed with SIGKILL; it is in a session of its own,
    so a Ctrl-C in the terminal reaches only this process, which stops it after recording its run."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    environment = {**prefect_environment(), **os.environ, **_prefect_settings_environment(),
                   "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    environment.pop("PREFECT_API_URL", None)
    with listening:
        process = subprocess.Popen(
            [sys.executable, "-m", "broadsheet.flows.temporary_api", str(listening.fileno()), str(os.getpid())],
            pass_fds=(listening.fileno(),), env=environment, stdout=subprocess.DEVNULL, start_new_session=True)
        port = listening.getsockname()[1]
    return TemporaryAPI(process, f"http://127.0.0.1:{port}/api")


def _prefect_settings_environment() -> dict[str, str]:
    """The settings this process's Prefect was given beyond the environment (a profile, temporary settings),
    as variables for the server; none before prefect is imported (the server reads the same environment)."""
    if "prefect" not in sys.modules:
        return {}
    from prefect.settings import get_current_settings

    return get_current_settings().to_environment_variables(exclude_unset=True)


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
    return _stop(process, seconds=30)


def _stop(process: subprocess.Popen[bytes], seconds: float) -> int:
    """Terminate ``process``, kill it if it has not ended within ``seconds``; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
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
