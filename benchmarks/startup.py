"""Where the fixed cost of a small run goes: `broadsheet ingest` of a few new pages, piece by piece.

    python benchmarks/startup.py [--pages DIR] [--total 10] [--runs 3] [--results FILE]
    python benchmarks/startup.py --serve N [--total 10]   # N scheduled runs of `broadsheet serve` instead

Each run (median of ``--runs``) measures, one after another so that all see the same machine:

1. **Pieces**, each in a fresh child process: the interpreter alone; ``import prefect``; broadsheet's own
   imports of the flow process (``flows.ingest`` after prefect) and of the CLI; Prefect's temporary server
   as ``run_ingest`` starts it (wall until it answers; CPU of the caller and of the server process); one
   worker process as the pool starts it (spawn, imports, initializer) and then its models (what loading
   them costs in that worker beyond its start); and each model on its own, in the order a worker loads
   them: the worker's imports, the embedding and tagger ONNX sessions, spaCy (import and pipeline), the
   gazetteer, the topic head and taxonomy.
2. **End to end**: the real ``broadsheet ingest DIR --db FRESH`` of ``--total`` new pages (built from the
   real pages under DIR, as ``throughput.py`` builds them), then the same command again (nothing new). Wall
   time, CPU seconds of the whole process tree (exact: the children's rusage) and per role (flow process,
   worker processes, Prefect's server; sampled every 0.1 s).

With ``--serve N``: ``broadsheet server`` and ``broadsheet serve`` of one folder source on a 10 s schedule with
``discover.limit = --total``, so each scheduled run ingests the next ``--total`` new pages of a folder of
N times ``--total``; the CPU seconds of every process involved (serve and its flow-run processes, the warm workers'
service and its workers; not the Prefect server) from one run's end to the next, and each run's wall time.

CPU seconds are the robust figure on a shared machine (wall time waits for other work); each piece is also
given as its share of the new run's CPU in the same run. Prints a markdown table and appends it, with the
machine and versions, to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import append_section, markdown_table, require_folder
from throughput import DEFAULT_PAGES, build_corpus, originals

BROADSHEET = Path(sys.executable).with_name("broadsheet")
ROLES = ("flow", "workers", "server")

# Each piece prints one JSON object: {"name": {"cpu": s, "wall": s}, ...} (CPU of this process unless said).
PIECES = {
    "python": "import json; print(json.dumps({'python': {'cpu': 0.0, 'wall': 0.0}}))",
    "imports": textwrap.dedent('''
        import json, time
        def clock(): return time.process_time(), time.perf_counter()
        found, (c, w) = {}, clock()
        def step(name):
            global c, w
            now = clock(); found[name] = {"cpu": now[0] - c, "wall": now[1] - w}; c, w = clock()
        from broadsheet.config.settings import apply_process_environment
        apply_process_environment(quiet=True)
        step("config")
        import prefect
        step("import prefect")
        import broadsheet.flows.ingest
        step("import flows.ingest (after prefect)")
        import broadsheet.flows.cli
        step("import flows.cli (after flows.ingest)")
        print(json.dumps(found))
    '''),
    "server": textwrap.dedent('''
        import json, time, psutil
        from broadsheet.config.settings import apply_process_environment
        apply_process_environment(quiet=True)
        c, w = time.process_time(), time.perf_counter()
        from broadsheet.config.settings import load_settings
        from broadsheet.flows.prefect_server import prefect_api, start_early
        settings = load_settings()
        start_early(settings.server)
        from prefect.client.orchestration import get_client
        with prefect_api(settings.server) as api_ready:
            api_ready()
            with get_client(sync_client=True) as client:
                client.hello()
            cpu, wall = time.process_time() - c, time.perf_counter() - w
            server = sum(sum(p.cpu_times()[:2]) for p in psutil.Process().children(recursive=True))
        print(json.dumps({"Prefect server, caller": {"cpu": cpu, "wall": wall},
                          "Prefect server, server process": {"cpu": server, "wall": wall}}))
    '''),
    "worker": textwrap.dedent('''
        import json, os, time, psutil
        from broadsheet.config.settings import load_settings
        from broadsheet.tasks import workers
        from broadsheet.tasks.enrich import load_models
        settings = workers._sharing_cpus(load_settings(pipeline={"workers": 2}), 2)
        w = time.perf_counter()
        pool = workers._new_pool(1, settings)
        pid = pool.submit(os.getpid).result()
        started, wall = sum(psutil.Process(pid).cpu_times()[:2]), time.perf_counter() - w
        w = time.perf_counter()
        pool.submit(load_models, settings).result()
        models = sum(psutil.Process(pid).cpu_times()[:2]) - started
        print(json.dumps({"worker process start (spawn, imports, initializer)": {"cpu": started, "wall": wall},
                          "worker: models beyond its start": {"cpu": models, "wall": time.perf_counter() - w}}))
        pool.shutdown()
    '''),
    "models": textwrap.dedent('''
        import json, sys, time
        sys.modules["torch"] = None  # as in a worker
        def clock(): return time.process_time(), time.perf_counter()
        found, (c, w) = {}, clock()
        def step(name):
            global c, w
            now = clock(); found[name] = {"cpu": now[0] - c, "wall": now[1] - w}; c, w = clock()
        import broadsheet.tasks.workers
        from broadsheet.config.settings import load_settings
        from broadsheet.tasks.enrich import entities, gazetteer, tagger, topic_head, topics
        from broadsheet.tasks.enrich.embeddings import load_encoder
        settings = load_settings()
        step("model: the worker's imports")
        load_encoder(settings.topics.model, 1)
        step("model: embedding ONNX session")
        tagger.load_tagger(1, settings.entities.model)
        step("model: ner-minilm ONNX session")
        entities.load_pos_pipeline(settings.entities.spacy_model)
        step("model: spaCy (import, POS pipeline)")
        gazetteer.country_names(); gazetteer.lookup_place("Paris")
        step("model: gazetteer")
        head = topic_head.load_head()
        topics.prototypes(settings.topics, topics.zero_shot_taxonomy(topics.taxonomy_for(settings.topics), head))
        step("model: topic head and taxonomy")
        print(json.dumps(found))
    '''),
}


@dataclass
class Run:
    """One ``broadsheet ingest``: wall seconds, CPU of the whole tree, CPU per role, articles loaded."""

    wall: float
    cpu: float
    roles: dict[str, float] = field(default_factory=dict)
    loaded: int = 0


def measure_piece(code: str) -> dict[str, dict[str, float]]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: a piece failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def python_alone() -> dict[str, dict[str, float]]:
    """The interpreter's own start and exit: a child's CPU from the rusage of children."""
    before, start = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return {"python (start and exit)": {"cpu": _children_cpu() - before, "wall": time.perf_counter() - start}}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _role(member: psutil.Process) -> str | None:
    """"workers" (multiprocessing's children), "server" (Prefect's uvicorn), None while not yet known (a child
    just forked still shows its parent's command line)."""
    try:
        command = " ".join(member.cmdline())
    except psutil.Error:
        return None
    if "multiprocessing" in command:
        return "workers"
    return "server" if "uvicorn" in command else None


def ingest(corpus: Path, db: Path, cwd: Path) -> Run:
    """``broadsheet ingest corpus --db db``, its process tree's CPU sampled every 0.1 s."""
    command = [str(BROADSHEET), "ingest", str(corpus), "--db", str(db), "--json", "--quiet"]
    before, start = _children_cpu(), time.perf_counter()
    with open(cwd / "stdout", "w+") as out, open(cwd / "stderr", "w+") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True)
        root = psutil.Process(process.pid)
        seen: dict[int, tuple[str | None, float]] = {}
        while process.poll() is None:
            try:
                for member in root.children(recursive=True):
                    role, cpu = seen.get(member.pid, (None, 0.0))
                    times = member.cpu_times()
                    seen[member.pid] = (role or _role(member), max(cpu, times.user + times.system))
            except psutil.Error:
                pass
            time.sleep(0.1)
        wall, total = time.perf_counter() - start, _children_cpu() - before
        out.seek(0), err.seek(0)
        if process.returncode != 0:
            sys.exit(f"error: broadsheet ingest exited with {process.returncode}:\n{err.read()[-3000:]}")
        loaded = json.loads(out.read())["counts"]["loaded"]
    roles = {role: sum(cpu for r, cpu in seen.values() if (r or "server") == role) for role in ("workers", "server")}
    roles["flow"] = max(0.0, total - roles["workers"] - roles["server"])
    return Run(wall, total, roles, loaded)


def one_run(corpus: Path) -> tuple[dict[str, dict[str, float]], Run, Run]:
    """Every piece, then a new ingest and a re-run of it, all on the same machine state."""
    pieces = python_alone()
    for name, code in PIECES.items():
        if name != "python":
            pieces.update(measure_piece(code))
    with tempfile.TemporaryDirectory(prefix="broadsheet-startup-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        new = ingest(corpus, db, Path(tmp))
        again = ingest(corpus, db, Path(tmp))
    return pieces, new, again


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def table(results: list[tuple[dict[str, dict[str, float]], Run, Run]], total: int) -> str:
    rows = []
    for label, pick in ((f"ingest of {total} new pages", 1), ("the same ingest again (nothing new)", 2)):
        runs: list[Run] = [r[pick] for r in results]  # type: ignore[misc]
        rows.append([f"**{label}**", _median([r.cpu for r in runs]), _median([r.wall for r in runs]), "1.00",
                     "; ".join(f"{role} {_median([r.roles[role] for r in runs])}" for role in ROLES)
                     + f"; loaded {min(r.loaded for r in runs)}"])
    for name in results[0][0]:
        cpus = [pieces[name]["cpu"] for pieces, _, _ in results]
        shares = [pieces[name]["cpu"] / new.cpu for pieces, new, _ in results]
        rows.append([name, _median(cpus), _median([pieces[name]["wall"] for pieces, _, _ in results]),
                     _median(shares), ""])
    header = ["what", "CPU s (median)", "wall s (median)", "share of the new run's CPU", "notes"]
    return markdown_table(header, rows)


NOTE = ("Pieces run each in a fresh child process, one after another, before the two ingests of the same run; a "
        "share is the piece's CPU over the new ingest's whole-tree CPU in the same run (median over runs). The "
        "pieces overlap in a real run (the worker pieces include imports that the model pieces list again) and "
        "do not add up to the total. Roles: flow is the `broadsheet ingest` process, workers the pool's "
        "processes, server Prefect's temporary API server. The machine is shared: wall times wait for other "
        "work, CPU seconds much less so.")


def serve_runs(pages: list[Path], total: int, runs: int) -> list[tuple[dict[str, float], float, int]]:
    """(CPU seconds per role since the previous run ended, the run's wall seconds, articles loaded) of each run."""
    with tempfile.TemporaryDirectory(prefix="bs-serve-", dir="/tmp") as tmp:  # short: it holds a Unix socket
        root = Path(tmp)
        (root / "pages").mkdir()
        build_corpus(pages, total * runs, root / "pages")
        (root / "sources.toml").write_text(f'[[sources]]\nname = "bench"\nlocation = "{root / "pages"}"\n'
                                           'schedule = "10s"\n')
        env = {**os.environ, "BROADSHEET_SERVER__HOME": str(root / "prefect"), "XDG_CACHE_HOME": str(root / "c"),
               "BROADSHEET_WAREHOUSE__PATH": str(root / "w.duckdb"), "BROADSHEET_DISCOVER__LIMIT": str(total)}
        env.pop("PREFECT_API_URL", None)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([str(BROADSHEET), "server", "--port", str(port)], cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        serve = None
        try:
            state = root / "prefect" / "server.json"
            _wait(state.exists, 180)
            api = json.loads(state.read_text())["api_url"]
            serve = subprocess.Popen([str(BROADSHEET), "serve", "--sources", str(root / "sources.toml")], cwd=root,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ended = _watch_runs(api, psutil.Process(serve.pid), str(root / "c"), runs)
        finally:
            for process in (serve, server):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=120)
            for process in psutil.process_iter(["cmdline"]):  # else the warm workers outlive it by their idle time
                if str(root / "c") in " ".join(process.info["cmdline"] or []):
                    process.terminate()
        with duckdb.connect(str(root / "w.duckdb"), read_only=True) as conn:
            loaded = [row[0] for row in conn.execute("select loaded from runs order by started_at").fetchall()]
    return [(cpu, wall, count) for (cpu, wall), count in zip(ended, loaded, strict=False)]


def _watch_runs(api: str, serve: psutil.Process, service_mark: str, runs: int) -> list[tuple[dict[str, float], float]]:
    """Sample the CPU of serve's tree and the warm workers' service's every 0.1 s until ``runs`` runs completed:
    per run, the CPU seconds of each role since the previous run ended, and the run's wall seconds."""
    seen: dict[int, tuple[str, float]] = {}
    ended: list[tuple[dict[str, float], float]] = []
    last = dict.fromkeys(SERVE_ROLES, 0.0)
    deadline = time.monotonic() + 600 * runs
    while len(ended) < runs and time.monotonic() < deadline:
        members = [(serve, "serve")] + [(child, "flow runs") for child in serve.children(recursive=True)]
        for process in psutil.process_iter(["cmdline"]):
            if service_mark in " ".join(process.info["cmdline"] or []):
                members += [(p, "warm workers") for p in (process, *process.children(recursive=True))]
        for member, role in members:
            try:
                times = member.cpu_times()
                seen[member.pid] = (role, max(seen.get(member.pid, (role, 0.0))[1], times.user + times.system))
            except psutil.Error:
                pass
        done = [r for r in httpx.post(f"{api}/flow_runs/filter", json={}, timeout=30).json()
                if r["state_type"] == "COMPLETED"]
        if len(done) > len(ended):
            now = {role: sum(cpu for r, cpu in seen.values() if r == role) for role in SERVE_ROLES}
            done.sort(key=lambda r: r["end_time"])
            ended.append(({role: now[role] - last[role] for role in SERVE_ROLES}, done[len(ended)]["total_run_time"]))
            last = now
        time.sleep(0.1)
    return ended


SERVE_ROLES = ("serve", "flow runs", "warm workers")


def _wait(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit("error: timed out waiting for the Prefect server")
        time.sleep(0.5)


def serve_table(ended: list[tuple[dict[str, float], float, int]]) -> str:
    def row(label: str, cpu: dict[str, float], wall: str, loaded: str) -> list[str]:
        return [label, f"{sum(cpu.values()):.2f}", *(f"{cpu[role]:.2f}" for role in SERVE_ROLES), wall, loaded]

    rows = [row(f"scheduled run {n}", cpu, f"{wall:.2f}", str(loaded))
            for n, (cpu, wall, loaded) in enumerate(ended, 1)]
    later = ended[1:]
    if later:
        medians = {role: statistics.median(cpu[role] for cpu, _, _ in later) for role in SERVE_ROLES}
        rows.append(row("**runs 2 and later (median of each column)**", medians, _median([w for _, w, _ in later]), ""))
    return markdown_table(["what", "CPU s (since the previous run ended)", *(f"of which {r}" for r in SERVE_ROLES),
                           "run wall s (Prefect)", "loaded"], rows)


SERVE_NOTE = ("CPU is every process's but the Prefect server's: `broadsheet serve`, the process of each flow run, the "
              "warm workers' service and its workers (sampled every 0.1 s, so a process's last 0.1 s can be missed), "
              "from the end of one run to the end of the next: serve's own polling between runs counts. The wall time "
              "is the run's own as Prefect records it.")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES,
                        help="folder of real .html/.html.gz pages (default: ../shared/eval/fundus-news/test_data)")
    parser.add_argument("--total", type=int, default=10, help="new pages in the ingested folder")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--serve", type=int, default=0, metavar="N",
                        help="instead: N scheduled runs of `broadsheet serve`, each of --total new pages")
    parser.add_argument("--results", type=Path, default=None, help="results file (default: benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.total < 1 or args.runs < 1 or args.serve < 0:
        parser.error("--total and --runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    pages = originals(require_folder(args.pages.resolve(), "pages folder"))
    if args.serve:
        return serve_main(args, pages, started, load_before)
    results = []
    with tempfile.TemporaryDirectory(prefix="broadsheet-pages-") as tmp:
        corpus = Path(tmp)
        build_corpus(pages, args.total, corpus)
        for number in range(1, args.runs + 1):
            print(f"run {number}/{args.runs}: pieces, then two ingests of {args.total} pages ...",
                  file=sys.stderr, flush=True)
            results.append(one_run(corpus))
    body = table(results, args.total) + "\n\n" + NOTE
    print(body)
    facts = {"pages": f"{args.total} new pages built from the real pages under `{args.pages.name}`",
             "runs": f"{args.runs} (medians)",
             "benchmark took": f"{time.perf_counter() - started:.0f} s; 1-min load average before it: "
                               f"{load_before:.2f}, after: {os.getloadavg()[0]:.2f}"}
    append_section("Start-up cost of a small run (benchmarks/startup.py)", facts, body,
                   *([args.results] if args.results else []))



def serve_main(args: argparse.Namespace, pages: list[Path], started: float, load_before: float) -> None:
    print(f"{args.serve} scheduled runs of {args.total} new pages under broadsheet serve ...", file=sys.stderr,
          flush=True)
    body = serve_table(serve_runs(pages, args.total, args.serve)) + "\n\n" + SERVE_NOTE
    print(body)
    facts = {"pages": f"{args.total} new pages a run, from the real pages under `{args.pages.name}`",
             "benchmark took": f"{time.perf_counter() - started:.0f} s; 1-min load average before it: "
                               f"{load_before:.2f}, after: {os.getloadavg()[0]:.2f}"}
    append_section("Scheduled runs under broadsheet serve (benchmarks/startup.py --serve)", facts, body,
                   *([args.results] if args.results else []))


if __name__ == "__main__":
    main()
