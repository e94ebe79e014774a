"""Politeness under load: throughput against the ideal for the limits, and the limits seen by the server.

    python benchmarks/politeness.py [--hosts N] [--pages P] [--latency S] [--no-record]

An asyncio HTTP server (its own process) listens on several loopback addresses (127.0.0.2, 127.0.0.3, ... each a
different *host* to broadsheet) and answers every request after ``--latency`` seconds (robots.txt
with 404, pages with a small HTML document). For each scenario broadsheet's real fetcher
(:func:`broadsheet.tasks.fetch.fetch_pages`, robots.txt obeyed) fetches ``--pages`` pages per host.

The server runs in its own process and keeps its own log (host, arrival, departure, on the system's
monotonic clock). From it the script
reports, per scenario: pages/s and its ratio to the ideal for the configured limits, the most requests
any host had in flight at once (against ``http.per_host_concurrency``), the most in flight over all
hosts (against ``http.concurrency``), and the shortest gap between two request arrivals at one host
(against ``http.host_delay_seconds``). The ideal is the time the limits alone force: per host, its
requests (robots.txt included) either spaced by the delay or ``per_host_concurrency`` at a time,
whichever is slower; over all hosts, ``concurrency`` at a time; the slowest of these bounds wins.
The table is appended, with date, commit and machine, to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import Pipe, Process
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import append_section, markdown_table

from broadsheet.config.records import Candidate
from broadsheet.config.settings import HttpSettings
from broadsheet.tasks.fetch import fetch_pages

PAGE = b"<!doctype html><html><head><title>Story</title></head><body><p>" + b"news " * 200 + b"</p></body></html>"


@dataclass(frozen=True)
class Scenario:
    name: str
    concurrency: int
    per_host: int
    delay: float


SCENARIOS = (
    Scenario("delay-bound", concurrency=16, per_host=2, delay=0.1),
    Scenario("per-host-bound", concurrency=32, per_host=2, delay=0.0),
    Scenario("global-bound", concurrency=6, per_host=4, delay=0.0),
    Scenario("mixed", concurrency=8, per_host=3, delay=0.05),
)


class AccessLog:
    """The server's own record of each request: (host, path, arrived, left) on the monotonic clock."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, float, float]] = []
        self._lock = threading.Lock()

    def add(self, host: str, path: str, arrived: float, left: float) -> None:
        with self._lock:
            self.entries.append((host, path, arrived, left))

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: AccessLog, latency: float) -> None:
    """HTTP/1.1 with keep-alive, just enough for GET: log arrival, wait ``latency``, answer, log departure."""
    host = writer.get_extra_info("sockname")[0]
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            arrived = time.monotonic()
            path = head.split(b" ", 2)[1].decode()
            await asyncio.sleep(latency)
            status, body = ("404 Not Found", b"no robots") if path == "/robots.txt" else ("200 OK", PAGE)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            log.add(host, path, arrived, time.monotonic())
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the client closed the connection
    finally:
        writer.close()


async def _serve_async(hosts: int, latency: float, ports: Connection, commands: Connection) -> None:
    log = AccessLog()
    running = [await asyncio.start_server(lambda r, w: _handle(r, w, log, latency), f"127.0.0.{i + 2}", 0)
               for i in range(hosts)]
    ports.send([server.sockets[0].getsockname()[1] for server in running])
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, commands.recv)) != "stop":
        if command == "clear":
            log.clear()
        commands.send(list(log.entries))
    for server in running:
        server.close()


def _serve(hosts: int, latency: float, ports: Connection, commands: Connection) -> None:
    """The server process: one asyncio loop in its own interpreter, so its clock readings are prompt.

    The garbage collector is off here: a collection pause would make the log record an arrival late.
    """
    gc.disable()
    asyncio.run(_serve_async(hosts, latency, ports, commands))


@contextmanager
def servers(hosts: int, latency: float) -> Iterator[tuple[list[str], Connection]]:
    """Servers on 127.0.0.2 ... in a child process; the connection answers "log" and "clear"."""
    ports_here, ports_there = Pipe()
    commands_here, commands_there = Pipe()
    child = Process(target=_serve, args=(hosts, latency, ports_there, commands_there), daemon=True)
    child.start()
    try:
        ports = ports_here.recv()
        yield [f"http://127.0.0.{i + 2}:{port}" for i, port in enumerate(ports)], commands_here
    finally:
        commands_here.send("stop")
        child.join(timeout=10)


def ideal_seconds(scenario: Scenario, hosts: int, pages: int, latency: float) -> float:
    requests = pages + 1  # robots.txt first
    per_host = max((requests - 1) * scenario.delay + latency, math.ceil(requests / scenario.per_host) * latency)
    overall = math.ceil(hosts * requests / scenario.concurrency) * latency
    return max(per_host, overall)


def peak_in_flight(entries: list[tuple[str, str, float, float]]) -> int:
    events = sorted([(a, 1) for _, _, a, _ in entries] + [(b, -1) for _, _, _, b in entries],
                    key=lambda e: (e[0], e[1]))
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def run(scenario: Scenario, bases: list[str], server: Connection, pages: int, latency: float) -> list[str]:
    settings = HttpSettings(allow_private_addresses=True, concurrency=scenario.concurrency,
                            per_host_concurrency=scenario.per_host, host_delay_seconds=scenario.delay,
                            max_retries=0, timeout_seconds=30, total_timeout_seconds=60)
    candidates = [Candidate(f"{base}/story/{n}", "bench") for n in range(pages) for base in bases]
    server.send("clear")
    server.recv()
    started = time.monotonic()
    outcome = fetch_pages(candidates, settings)
    elapsed = time.monotonic() - started
    assert len(outcome.pages) == len(candidates), outcome.rejections[:3]
    ideal = ideal_seconds(scenario, len(bases), pages, latency)
    server.send("log")
    entries: list[tuple[str, str, float, float]] = server.recv()
    by_host: dict[str, list[tuple[str, str, float, float]]] = {}
    for entry in entries:
        by_host.setdefault(entry[0], []).append(entry)
    peak_host = max(peak_in_flight(e) for e in by_host.values())
    gaps = [b[2] - a[2] for e in by_host.values() for a, b in zip(sorted(e, key=lambda x: x[2]),
                                                                   sorted(e, key=lambda x: x[2])[1:], strict=False)]
    rate, ideal_rate = len(candidates) / elapsed, len(candidates) / ideal
    return [scenario.name, f"{scenario.concurrency}/{scenario.per_host}/{scenario.delay:g}",
            str(len(candidates)), f"{elapsed:.2f}", f"{rate:.1f}", f"{ideal_rate:.1f}",
            f"{rate / ideal_rate:.0%}", f"{peak_host} (≤ {scenario.per_host})",
            f"{peak_in_flight(entries)} (≤ {scenario.concurrency})",
            f"{min(gaps) * 1000:.1f} ms (≥ {scenario.delay * 1000:g})",
            "yes" if peak_host <= scenario.per_host and peak_in_flight(entries) <= scenario.concurrency
            and min(gaps) >= scenario.delay else "NO"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=4, help="loopback hosts (127.0.0.2 ...)")
    parser.add_argument("--pages", type=int, default=40, help="pages per host")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per request, seconds")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()
    header = ["scenario", "concurrency/per host/delay s", "pages", "seconds", "pages/s", "ideal pages/s",
              "of ideal", "peak per host", "peak overall", "shortest gap per host", "limits kept"]
    with servers(args.hosts, args.latency) as (bases, server):
        rows = [run(scenario, bases, server, args.pages, args.latency) for scenario in SCENARIOS]
    table = markdown_table(header, rows)
    print(table)
    if not args.no_record:
        append_section("Politeness (benchmarks/politeness.py)",
                       {"hosts": str(args.hosts), "pages per host": str(args.pages),
                        "server latency": f"{args.latency * 1000:g} ms"},
                       table + "\nPeaks and gaps come from the server's own access log (arrival and departure "
                               "per request, robots.txt included); the ideal is the time the limits alone force.")


if __name__ == "__main__":
    main()
