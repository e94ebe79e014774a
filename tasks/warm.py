"""Warm workers: worker processes shared by the scheduled runs of one machine, models loaded, freed when idle.

Under ``broadsheet serve`` (and a Prefect worker) each scheduled run is a process of its own, which would start
worker processes and load their models again every time: seconds of CPU a run. Instead a scheduled run hands its
jobs to a *worker service*: one process per user and installation holding a pool of :mod:`.workers`, reached
through a Unix socket in a folder of broadsheet's cache that only its user may enter. The first run that needs
it starts it (in a session of its own, so it outlives that run); it ends, its workers and their models with it,
once no run has been connected for ``pipeline.worker_idle_seconds``.

Jobs, results and exceptions cross the socket pickled, as they cross the pool's own pipes, so a job that raises
or kills its worker comes back to the run as an exception and is retried there document by document, exactly as
with a pool of the run's own. A service that cannot be started or reached leaves the run to workers of its own;
one lost mid-run fails the jobs it held, which the run retries the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from importlib.metadata import version
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from broadsheet.config.settings import Settings, cache_root
from broadsheet.tasks import workers

SERVICE_START_SECONDS = 60.0  # for the service's socket to appear: it imports little, but machines get busy
MAX_SOCKET_PATH = 100  # a Unix socket's path has room for 107 bytes on Linux, 103 on macOS

log = logging.getLogger(__name__)


def service_address() -> Path:
    """The service's socket: one per user (the cache folder) and installation (this Python, this broadsheet, its
    code as it is now: workers started before an update would otherwise go on tagging with the old code)."""
    package = Path(__file__).resolve().parents[1]
    installation = f"{sys.executable}|{package}|{version('broadsheet')}|{code_fingerprint(package)}"
    return cache_root() / "workers" / hashlib.sha256(installation.encode()).hexdigest()[:12]


CODE_PARTS = ("config", "tasks", "models")  # what a worker runs: its stages, their settings, the shipped models


def code_fingerprint(package: Path) -> str:
    """A digest of the name, size and modification time of every source file and model manifest a worker uses."""
    digest = hashlib.sha256()
    for part in CODE_PARTS:
        for path in sorted((package / part).rglob("*")):
            if path.suffix == ".py" or path.name == "manifest.json":
                stat = path.stat()
                digest.update(f"{path.relative_to(package)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class WarmWorkers:
    """A run's connection to the worker service: jobs sent, each answer matched back to its job's future."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._numbers = itertools.count()
        threading.Thread(target=self._read, name="broadsheet-warm-workers", daemon=True).start()

    def submit(self, count: int, job: Any, chunk: list[Any], settings: Settings) -> Future[Any]:
        """``job`` over ``chunk`` on the service's pool of ``count`` workers (as :func:`workers.submit`)."""
        return self._send("job", count, job, chunk, settings)

    def call(self, kind: str, *arguments: object) -> Any:
        """A request the service answers at once ("start", "status")."""
        return self._send(kind, *arguments).result(timeout=SERVICE_START_SECONDS)

    def close(self) -> None:
        """Close the connection; shut down first, since closing alone would wait for the reader's recv()."""
        with contextlib.suppress(OSError), socket.fromfd(self._connection.fileno(), socket.AF_UNIX,
                                                         socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
        self._connection.close()

    def _send(self, kind: str, *arguments: object) -> Future[Any]:
        future: Future[Any] = Future()
        with self._send_lock:
            number = next(self._numbers)
            self._pending[number] = future
            try:
                self._connection.send((kind, number, *arguments))
            except (OSError, ValueError) as exc:
                self._pending.pop(number, None)
                future.set_exception(ConnectionError(f"the worker service is gone ({exc})"))
            except Exception as exc:  # arguments that cannot be pickled, as a pool's own future would report them
                self._pending.pop(number, None)
                future.set_exception(exc)
        return future

    def _read(self) -> None:
        while True:
            try:
                number, ok, value = self._connection.recv()
            except (EOFError, OSError) as exc:  # the service ended, or this run closed the connection
                self._lost(exc)
                return
            answered = self._pending.pop(number, None)
            if answered is not None and ok:
                answered.set_result(value)
            elif answered is not None:
                answered.set_exception(value)

    def _lost(self, cause: BaseException) -> None:
        """Fail every job still out; the run's later jobs go to its own process."""
        if _client is self:  # not a connection closed by detach(), after which another may be in use
            workers.use_shared(None)
        with self._send_lock:
            for future in self._pending.values():
                future.set_exception(ConnectionError(f"the worker service is gone ({cause!r})"))
            self._pending.clear()


_client: WarmWorkers | None = None


def attach(settings: Settings, models: bool) -> bool:
    """Hand this process's jobs to the worker service, started now if none runs, and have it start its workers
    (loading their models now when ``models``). False when the service cannot be had: the run then uses workers of
    its own."""
    global _client
    try:
        if _client is None:
            _client = WarmWorkers(_connect(settings.pipeline.worker_idle_seconds))
            workers.use_shared(_client.submit)
        _client.call("start", settings, models)
    except (OSError, TimeoutError) as exc:
        log.warning("the warm workers' service cannot be used (%s): this run starts workers of its own", exc)
        detach()
        return False
    return True


def detach() -> None:
    """Hand this process's jobs back to its own workers, and close its connection to the service."""
    global _client
    workers.use_shared(None)
    if _client is not None:
        _client.close()
        _client = None


def service_status() -> dict[str, Any] | None:
    """The running service's process id and its workers' ("pid", "workers"), or None when none runs."""
    try:
        client = WarmWorkers(Client(str(service_address()), family="AF_UNIX"))
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    try:
        return client.call("status")  # type: ignore[no-any-return]
    finally:
        client.close()


def _connect(idle_seconds: float) -> Connection:
    """A connection to the service, started first if none answers."""
    address = service_address()
    if len(str(address)) > MAX_SOCKET_PATH:
        raise OSError(f"the socket path {address} is too long for a Unix socket: set XDG_CACHE_HOME to a shorter path")
    _private_folder(address.parent)
    try:
        return Client(str(address), family="AF_UNIX")
    except (FileNotFoundError, ConnectionRefusedError):
        _start_service(address, idle_seconds)
    deadline = time.monotonic() + SERVICE_START_SECONDS
    while True:
        try:
            return Client(str(address), family="AF_UNIX")
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker service did not open {address} within {SERVICE_START_SECONDS:.0f} s; "
                                   f"its log: {address.with_suffix('.log')}") from None
            time.sleep(0.1)


def _private_folder(folder: Path) -> None:
    """The service's folder, which only this user may enter: whoever connects may run code in the service."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = folder.stat()
    if found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise OSError(f"{folder} must belong to this user alone (mode 700)")


def _start_service(address: Path, idle_seconds: float) -> None:
    with address.with_suffix(".log").open("wb") as log_file:
        subprocess.Popen([sys.executable, "-m", "broadsheet.tasks.warm", str(address), str(idle_seconds)],
                         stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True)


class Service:
    """The worker service: a pool of :mod:`.workers` for every connected run; ends when idle with none connected."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._connected = 0
        self._running = 0  # jobs sent to the pool and not yet answered
        self._last = time.monotonic()

    def handle(self, connection: Connection) -> None:
        """Serve one run's requests until it disconnects."""
        send_lock = threading.Lock()
        with self._lock:
            self._connected += 1
        try:
            while True:
                kind, number, *arguments = connection.recv()
                self._dispatch(connection, send_lock, kind, number, arguments)
        except (EOFError, OSError):
            pass
        except Exception:  # a request that cannot be unpickled here: the run then does without the service
            log.exception("a run's request could not be read; its connection is closed")
        finally:
            connection.close()
            with self._lock:
                self._connected -= 1
                self._last = time.monotonic()

    def _dispatch(self, connection: Connection, send_lock: threading.Lock, kind: str, number: int,
                  arguments: list[Any]) -> None:
        if kind == "job":
            with self._lock:
                self._running += 1
            try:
                future = workers.submit(*arguments)
            except Exception as exc:  # a pool that cannot start: the run retries the job's documents alone
                future = Future()
                future.set_exception(exc)
            future.add_done_callback(lambda done: self._answer(connection, send_lock, number, done))
        elif kind == "start":
            settings, models = arguments
            workers.start(settings, models)
            _send(connection, send_lock, (number, True, None))
        elif kind == "status":
            _send(connection, send_lock, (number, True, {"pid": os.getpid(), "workers": workers.worker_pids()}))

    def _answer(self, connection: Connection, send_lock: threading.Lock, number: int, done: Future[Any]) -> None:
        error = ConnectionError("the job was cancelled") if done.cancelled() else done.exception()
        _send(connection, send_lock, (number, True, done.result()) if error is None else (number, False, error))
        with self._lock:
            self._running -= 1
            self._last = time.monotonic()

    def idle(self) -> bool:
        """Whether no run is connected, nothing runs, and that has lasted ``idle_seconds``."""
        with self._lock:
            return (not self._connected and not self._running
                    and time.monotonic() - self._last >= self.idle_seconds)


def _send(connection: Connection, send_lock: threading.Lock, message: tuple[int, bool, Any]) -> None:
    number, _, value = message
    with send_lock:
        try:
            connection.send(message)
        except (pickle.PicklingError, TypeError, AttributeError):  # an exception that cannot be pickled
            connection.send((number, False, RuntimeError(f"{type(value).__name__}: {value}")))
        except (OSError, ValueError):  # the run is gone
            pass


def serve(address: Path, idle_seconds: float) -> None:
    """Run the service at ``address`` until idle, unless another one already does."""
    import fcntl  # POSIX only, as the service is

    lock = address.with_suffix(".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held while this process lives: one service per address
    except BlockingIOError:
        return
    for name in workers.QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    address.unlink(missing_ok=True)  # a socket left by a service that was killed
    listener = Listener(str(address), family="AF_UNIX")
    service = Service(idle_seconds)
    threading.Thread(target=_end_when_idle, args=(service, address), name="idle", daemon=True).start()
    while True:
        connection = listener.accept()
        threading.Thread(target=service.handle, args=(connection,), name="run", daemon=True).start()


def _end_when_idle(service: Service, address: Path) -> None:
    while not service.idle():
        time.sleep(min(1.0, max(service.idle_seconds / 4, 0.05)))
    address.unlink(missing_ok=True)
    workers.shutdown()
    os._exit(0)  # the listener's accept() cannot be woken from another thread


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]))
