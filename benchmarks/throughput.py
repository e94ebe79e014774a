"""End-to-end throughput against the libraries' own limit, on one and two cores, with peak memory.

    python benchmarks/throughput.py [--pages DIR] [--total N] [--cores 1,2] [--runs K] [--no-plain] [--timeline S]
    python benchmarks/throughput.py --long N [--seed M]   # memory over one long run (into a warehouse of M articles)

1. Builds a folder of ``--total`` distinct pages from the real pages under DIR (default: the fundus
   news pages): copy k of a page carries "?edition=k" on its canonical URL and a sentence of its own,
   so no copy is dropped as already known (every one is extracted, enriched and loaded).
2. Times each stage *bare* on one core, in a child process pinned to CPU 0 (ONNX Runtime on one thread):
   gzip, trafilatura, spaCy's pipeline over the texts broadsheet tags (its language gate), and
   sentence-transformers over the article leads; each the median of K passes over the distinct pages.
3. The pipeline's limit: one core, 1 / Σ(seconds per page of each bare stage); two cores, twice that
   (every stage perfectly parallel: a strict limit, loading and orchestration count against us).
4. Runs ``broadsheet ingest`` on the folder into a fresh warehouse K times per core count, pinned with
   the CPU affinity (which ``pipeline.workers = 0`` follows), sampling the summed RSS of the whole
   process tree (Prefect's temporary server included) every 0.2 s for the peak.
5. On the most cores, after each ingest, runs the same flow function *without Prefect* (tasks called
   as plain functions, no API, no server): orchestration overhead is 1 - plain wall / Prefect wall,
   per pair of runs, and its median.

Prints a markdown table and appends it, with the machine and versions, to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder

DEFAULT_PAGES = EVAL / "fundus-news" / "test_data"
CANONICAL = re.compile(rb"""(<(?:link|meta)[^>]+(?:rel=["']canonical["']|property=["']og:url["'])[^>]*?"""
                       rb"""(?:href|content)=["'])([^"'?#]+)""", re.IGNORECASE)
PARAGRAPH_END = re.compile(rb"</p>", re.IGNORECASE)
BROADSHEET = Path(sys.executable).with_name("broadsheet")


def originals(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith((".html", ".html.gz", ".htm")))


def distinct_copy(html: bytes, edition: int) -> bytes:
    """The page with its own canonical URL and a sentence of its own in its fifth paragraph (or last)."""
    if edition == 0:
        return html
    html = CANONICAL.sub(lambda m: m.group(1) + m.group(2) + f"?edition={edition}".encode(), html)
    ends = [m.start() for m in PARAGRAPH_END.finditer(html)]
    if ends:
        at = ends[min(4, len(ends) - 1)]
        html = html[:at] + f" This is edition {edition} of the story.".encode() + html[at:]
    return html


def build_corpus(pages: list[Path], total: int, folder: Path, first: int = 0) -> None:
    """Pages number ``first`` to ``first + total - 1``: page n is copy n // len(pages) of an original."""
    for number in range(first, first + total):
        source = pages[number % len(pages)]
        raw = source.read_bytes()
        html = gzip.decompress(raw) if source.suffix == ".gz" else raw
        (folder / f"{number:06d}-{source.name.removesuffix('.gz')}").write_bytes(
            distinct_copy(html, number // len(pages)))


BARE = textwrap.dedent('''
    import gzip, json, os, statistics, sys, time
    os.sched_setaffinity(0, {0})
    os.environ["OMP_NUM_THREADS"] = "1"
    from broadsheet.config.settings import apply_process_environment, load_settings
    apply_process_environment(quiet=True)
    import logging
    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)
    sys.path.insert(0, sys.argv[3])
    from stages import bare_models, extract_bare, read_bare
    from broadsheet.tasks.discover import discover_folder
    from broadsheet.tasks.extract import extract_articles
    from broadsheet.tasks.fetch import local_path, read_local
    from broadsheet.tasks.enrich import article_lead
    settings = load_settings()
    from broadsheet.tasks.enrich import embed
    embed(["warm"], settings.topics)  # an ONNX runtime's export is built once, before anything is timed
    runs = int(sys.argv[2])
    from pathlib import Path
    candidates = discover_folder(Path(sys.argv[1]), "bench").candidates
    files = [local_path(c.url) for c in candidates]
    pages = [read_local(c, settings.http.max_body_bytes) for c in candidates]
    articles, _ = extract_articles(pages, settings.extract)
    gate = settings.entities.languages
    tagged = [a.text[: settings.entities.max_chars] for a in articles if not gate or a.language in gate]
    leads = [article_lead(a, settings.topics.max_chars) for a in articles]
    nlp, encoder = bare_models()
    list(nlp.pipe(tagged[:8])); encoder.encode(leads[:16]); extract_bare(pages[:3])
    work = {"read": lambda: read_bare(files), "extract": lambda: extract_bare(pages),
            "spacy": lambda: list(nlp.pipe(tagged)), "embed": lambda: encoder.encode(leads)}
    seconds = {}
    for name, job in work.items():
        samples = []
        for _ in range(runs):
            start = time.perf_counter(); job(); samples.append(time.perf_counter() - start)
        seconds[name] = statistics.median(samples)
    print(json.dumps({"pages": len(pages), "articles": len(articles), "tagged": len(tagged),
                      "tokens": sum(len(d) for d in nlp.tokenizer.pipe(tagged)), "seconds": seconds}))
''')

PLAIN = textwrap.dedent('''
    """broadsheet's ingest flow with Prefect taken out: tasks are plain calls, no API, no server."""
    import contextlib, json, logging, sys, time
    start = time.perf_counter()
    from broadsheet.config.settings import apply_process_environment, load_settings
    apply_process_environment(quiet=True)
    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import prefect.tasks
    from prefect.utilities.annotations import BaseAnnotation
    plain = lambda value: value.unwrap() if isinstance(value, BaseAnnotation) else value  # quoted arguments
    prefect.tasks.Task.__call__ = lambda self, *args, **kwargs: self.fn(*map(plain, args), **kwargs)
    import broadsheet.flows.ingest as ingest
    import broadsheet.tasks.batch as batch
    batch.get_run_logger = ingest.get_run_logger = lambda: logging.getLogger("broadsheet")
    batch.concurrency = lambda *args, **kwargs: contextlib.nullcontext()
    ingest.create_markdown_artifact = lambda *args, **kwargs: None
    from broadsheet.config.sources import source_from_argument
    settings = load_settings(warehouse={"path": sys.argv[2]})
    summary = ingest.ingest_flow.fn([source_from_argument(sys.argv[1])], settings)
    print(json.dumps({"wall": time.perf_counter() - start, "loaded": summary.counts.loaded}))
''')


def measure_bare(folder: Path, runs: int) -> dict:
    """Bare stage seconds over the distinct pages, in a child pinned to CPU 0."""
    done = subprocess.run([sys.executable, "-c", BARE, str(folder), str(runs), str(Path(__file__).parent)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: the bare stage timing failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


Sample = tuple[float, dict[str, int]]  # seconds since start, RSS bytes per role of the process tree
ROLES = ("flow", "workers", "server")


@dataclass
class Run:
    """One command run: wall seconds, RSS samples every 0.2 s, CPU seconds per role, and its stdout; with
    ``used``, the tree's CPU seconds so far at each sample (what :func:`timeline` reads)."""

    wall: float
    samples: list[Sample]
    cpu: dict[str, float]
    stdout: str
    loaded: int = 0
    used: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def busy(self, cores: int) -> float:
        """The share of the cores' time the run's processes used, start to exit."""
        return sum(self.cpu.values()) / (self.wall * cores)


def run_tree(command: list[str], cpus: set[int], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """``command`` run on ``cpus`` (with ``env`` added to the environment), its process tree sampled every
    0.2 s. Output goes to files, so a chatty child never blocks on a full pipe."""
    with open(cwd / "stdout", "w+") as out, open(cwd / "stderr", "w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True,
                                   env={**os.environ, **(env or {})},
                                   preexec_fn=lambda: os.sched_setaffinity(0, cpus))
        root, samples = psutil.Process(process.pid), []
        cpu: dict[int, tuple[str, float]] = {}  # pid: (role, CPU seconds at its last sample)
        used: list[tuple[float, dict[str, float]]] = []
        while process.poll() is None:
            try:
                roles = dict.fromkeys(ROLES, 0)
                for member in [root, *root.children(recursive=True)]:
                    role = _role(root, member)  # each time: a child just spawned still has its parent's name
                    roles[role] += _rss(member)
                    cpu[member.pid] = (role, max(_cpu(member), cpu.get(member.pid, (role, 0.0))[1]))
                samples.append((time.perf_counter() - start, roles))
                used.append((samples[-1][0], {r: sum(c for rr, c in cpu.values() if rr == r) for r in ROLES}))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.2)
        wall = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if process.returncode != 0:
            sys.exit(f"error: {' '.join(command[:3])} exited with {process.returncode}:\n{err.read()[-3000:]}")
        by_role = {role: sum(seconds for r, seconds in cpu.values() if r == role) for role in ROLES}
        return Run(wall, samples, by_role, out.read(), used=used)


def timeline(run: Run, step: float) -> str:
    """Cores used by each role in each ``step`` seconds of the run: where the cores sat idle."""
    lines, (before, so_far) = [], (0.0, dict.fromkeys(ROLES, 0.0))
    for seconds, cpu in run.used:
        if seconds - before >= step:
            rates = {role: (cpu[role] - so_far[role]) / (seconds - before) for role in ROLES}
            lines.append(f"{before:6.1f}-{seconds:6.1f} s  " + "  ".join(f"{role} {rates[role]:.2f}" for role in ROLES)
                         + f"  all {sum(rates.values()):.2f}")
            before, so_far = seconds, cpu
    return "\n".join(lines)


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return float(times.user + times.system)
    except psutil.NoSuchProcess:
        return 0.0


def _role(root: psutil.Process, member: psutil.Process) -> str:
    """"flow" (the command's own process), "workers" (multiprocessing's children: the worker pool and its
    resource tracker) or "server" (anything else: Prefect's temporary server)."""
    if member.pid == root.pid:
        return "flow"
    try:
        command = " ".join(member.cmdline())
    except psutil.NoSuchProcess:
        return "workers"
    return "workers" if "multiprocessing" in command else "server"


def peak(samples: list[Sample], role: str | None = None) -> int:
    """The highest RSS of the whole tree (or of one role's processes)."""
    return max((rss[role] if role else sum(rss.values()) for _, rss in samples), default=0)


def tenths(samples: list[Sample], wall: float, role: str | None = None) -> list[int]:
    """Peak RSS in each tenth of the run: flat means nothing accumulates."""
    return [peak([(t, rss) for t, rss in samples if wall * i / 10 <= t < wall * (i + 1) / 10], role)
            for i in range(10)]


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def ingest(corpus: Path, cpus: set[int], plain: bool = False, db: Path | None = None,
           env: dict[str, str] | None = None) -> Run:
    """One ingest of ``corpus`` into ``db`` or a fresh warehouse (``loaded``: the articles it loaded)."""
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as tmp:
        db = db or Path(tmp) / "warehouse.duckdb"
        if plain:
            command = [sys.executable, "-c", PLAIN, str(corpus), str(db)]
        else:
            command = [str(BROADSHEET), "ingest", str(corpus), "--db", str(db), "--json", "--quiet"]
        done = run_tree(command, cpus, Path(tmp), env)
        done.loaded = json.loads(done.stdout)["loaded"] if plain else json.loads(done.stdout)["counts"]["loaded"]
    return done


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES,
                        help="folder of real .html/.html.gz pages (default: ../shared/eval/fundus-news/test_data)")
    parser.add_argument("--total", type=int, default=2000, help="distinct pages in the ingested folder")
    parser.add_argument("--cores", default="1,2", help="core counts to run the ingest on (CPUs 0..n-1)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--no-plain", action="store_true", help="skip the run without Prefect")
    parser.add_argument("--spacy-too", action="store_true",
                        help="on one core, also run each ingest with entities.model = spacy, right after the "
                             "default one, for the speed ratio of the two taggers")
    parser.add_argument("--long", type=int, default=None, metavar="N",
                        help="instead: one ingest of N distinct pages on the most cores given, reporting peak "
                             "memory per tenth of the run (flat means nothing accumulates)")
    parser.add_argument("--seed", type=int, default=0, metavar="M",
                        help="with --long: first fill the warehouse to M articles (the originals ingested, their "
                             "rows then copied under new ids), so the long run loads into a warehouse of that size")
    parser.add_argument("--timeline", type=float, default=0.0, metavar="SECONDS",
                        help="print the cores each role used in every SECONDS of each core count's last run "
                             "(where the cores sat idle)")
    parser.add_argument("--results", type=Path, default=None, help="results file (default: benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    args.cores = [int(c) for c in args.cores.split(",")]
    if args.total < 1 or args.runs < 1 or any(c < 1 or c > len(os.sched_getaffinity(0)) for c in args.cores):
        parser.error("--total and --runs must be at least 1, --cores between 1 and this machine's CPUs")
    if args.seed < 0 or (args.seed and not args.long):
        parser.error("--seed M takes a positive M and goes with --long N")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    pages = originals(require_folder(args.pages.resolve(), "pages folder"))
    if args.long:
        return long_run(args, pages, started, load_before)
    with tempfile.TemporaryDirectory(prefix="broadsheet-pages-") as tmp:
        distinct, corpus = Path(tmp) / "distinct", Path(tmp) / "corpus"
        distinct.mkdir()
        corpus.mkdir()
        build_corpus(pages, len(pages), distinct)
        build_corpus(pages, args.total, corpus)
        print(f"timing the bare stages on {len(pages)} pages, one core ...", file=sys.stderr, flush=True)
        bare = measure_bare(distinct, args.runs)
        per_page = {name: seconds / bare["pages"] for name, seconds in bare["seconds"].items()}
        limit_one = 1 / sum(per_page.values())
        rows = [[f"bare {name}", f"{bare['pages'] / seconds:,.1f}", "—", "—", "—"]
                for name, seconds in bare["seconds"].items()]
        rows.append(["limit, 1 core (sum of bare stages)", f"{limit_one:,.2f}", "—", "—", "—"])
        rate_of: dict[int, float] = {}
        paired = [] if args.no_plain else [max(args.cores)]
        plain_runs: list[Run] = []
        prefect_runs: list[Run] = []
        overheads: list[float] = []
        spacy_runs: list[Run] = []
        for cores in args.cores:
            cpus, runs = set(range(cores)), []
            for number in range(1, args.runs + 1):
                print(f"broadsheet ingest of {args.total} pages on {cores} core(s), run {number}/{args.runs} ...",
                      file=sys.stderr, flush=True)
                runs.append(ingest(corpus, cpus))
                if cores == 1 and args.spacy_too:
                    print(f"the same with entities.model = spacy on 1 core, run {number}/{args.runs} ...",
                          file=sys.stderr, flush=True)
                    spacy_runs.append(ingest(corpus, cpus, env={"BROADSHEET_ENTITIES__MODEL": "spacy"}))
                if cores in paired:  # right after, so that both see the same machine
                    print(f"the same flow without Prefect on {cores} core(s), run {number}/{args.runs} ...",
                          file=sys.stderr, flush=True)
                    plain_runs.append(ingest(corpus, cpus, plain=True))
                    prefect_runs.append(runs[-1])
                    overheads.append(1 - plain_runs[-1].wall / runs[-1].wall)
            if args.timeline:
                print(f"cores used, run {len(runs)} on {cores} core(s):\n{timeline(runs[-1], args.timeline)}",
                      file=sys.stderr, flush=True)
            wall = statistics.median(r.wall for r in runs)
            most = max(peak(r.samples) for r in runs)
            loaded = min(r.loaded for r in runs)
            rate_of[cores] = args.total / wall
            limit = limit_one * cores
            rows.append([f"broadsheet ingest, {cores} core(s)", f"{rate_of[cores]:,.2f}",
                         f"{rate_of[cores] / limit:.2f} of {limit:,.2f}", f"{most / 2**30:.2f}",
                         f"{loaded} of {args.total} loaded; walls {_walls(runs)} s; cores busy "
                         f"{statistics.median(r.busy(cores) for r in runs):.0%}"])
            if cores == 1 and spacy_runs:
                spacy_rate = args.total / statistics.median(r.wall for r in spacy_runs)
                rows.append(["broadsheet ingest, 1 core, entities.model = spacy", f"{spacy_rate:,.2f}",
                             f"{spacy_rate / limit:.2f} of {limit:,.2f}",
                             f"{max(peak(r.samples) for r in spacy_runs) / 2**30:.2f}",
                             f"{min(r.loaded for r in spacy_runs)} of {args.total} loaded; "
                             f"walls {_walls(spacy_runs)} s"])
                rows.append(["default tagger / spacy, 1 core", f"{rate_of[1] / spacy_rate:.2f}x", "—", "—",
                             "run by run: " + ", ".join(f"{s.wall / r.wall:.2f}"
                                                         for r, s in zip(runs, spacy_runs, strict=True))])
        if 1 in rate_of and 2 in rate_of:
            rows.append(["two cores / one core", f"{rate_of[2] / rate_of[1]:.2f}x", "—", "—", "—"])
        if plain_runs:
            plain_wall = statistics.median(r.wall for r in plain_runs)
            rows.append([f"flow without Prefect, {paired[0]} core(s)", f"{args.total / plain_wall:,.2f}", "—",
                         f"{max(peak(r.samples) for r in plain_runs) / 2**30:.2f}",
                         f"walls {_walls(plain_runs)} s; Prefect's share of the wall time, run by run: "
                         f"{', '.join(f'{o:.1%}' for o in overheads)} (median {statistics.median(overheads):.1%})"])
            rows.append(["CPU seconds, with / without Prefect (medians)", "—", "—", "—",
                         "; ".join(f"{role} {_cpu_median(prefect_runs, role):,.0f} / "
                                   f"{_cpu_median(plain_runs, role):,.0f}" for role in ROLES)])
    header = ["what", "pages/s", "ratio to limit", "peak RSS GiB (tree)", "notes"]
    body = markdown_table(header, rows) + "\n\n" + NOTE
    print(body)
    facts = {
        "pages": f"{args.total} distinct pages built from {len(pages)} real ones (`{_display(args.pages)}`); "
                 f"bare stages over the {bare['pages']} originals ({bare['articles']} articles, {bare['tagged']} "
                 f"tagged by spaCy, {bare['tokens']:,} tokens: {bare['tokens'] / bare['seconds']['spacy']:,.0f} "
                 "tokens/s)",
        "runs": f"{args.runs} per measurement (median wall; peak is the max)",
        "benchmark took": f"{time.perf_counter() - started:.0f} s; 1-min load average before it: {load_before:.2f}",
    }
    append_section("Throughput against the limit (benchmarks/throughput.py)", facts, body,
                   *([args.results] if args.results else []))


def long_run(args: argparse.Namespace, pages: list[Path], started: float, load_before: float) -> None:
    """One long ingest: throughput and the peak RSS of the whole tree in each tenth of the run."""
    cores = max(args.cores)
    with tempfile.TemporaryDirectory(prefix="broadsheet-pages-") as tmp:
        corpus, db, seeded = Path(tmp) / "corpus", Path(tmp) / "warehouse.duckdb", 0
        corpus.mkdir()
        if args.seed:
            seeded = seed_warehouse(db, pages, args.seed, set(range(cores)), Path(tmp) / "originals")
        build_corpus(pages, args.long, corpus, first=len(pages) if args.seed else 0)
        print(f"broadsheet ingest of {args.long} pages on {cores} core(s) ...", file=sys.stderr, flush=True)
        done = ingest(corpus, set(range(cores)), db=db)
        wall, samples, loaded = done.wall, done.samples, done.loaded
    columns = [tenths(samples, wall), *(tenths(samples, wall, role) for role in ROLES)]
    rows = [[f"{i * 10}-{(i + 1) * 10}%", *(f"{column[i] / 2**30:.2f}" for column in columns)] for i in range(10)]
    body = markdown_table(["part of the run", "peak RSS GiB (tree)", *(f"peak {role}" for role in ROLES)], rows)
    body += "\n\n" + ROLES_NOTE
    if seeded:
        body += (f"\n\nThe warehouse held {seeded:,} articles before the run: the {len(pages)} originals ingested, "
                 "their rows then copied under new ids and URLs (every article table, enrichments included).")
    body += (f"\n\n{args.long} pages on {cores} core(s): {args.long / wall:,.2f} pages/s, wall {wall:,.0f} s, "
             f"{loaded} loaded, peak {peak(samples) / 2**30:.2f} GiB over the flow, its workers and Prefect's server; "
             f"CPU seconds: {', '.join(f'{role} {done.cpu[role]:,.0f}' for role in ROLES)}.")
    print(body)
    facts = {"pages": f"{args.long} distinct pages built from {len(pages)} real ones (`{_display(args.pages)}`)",
             "benchmark took": f"{time.perf_counter() - started:.0f} s; 1-min load average before it: "
                               f"{load_before:.2f}"}
    append_section("Memory on a long run (benchmarks/throughput.py --long)", facts, body,
                   *([args.results] if args.results else []))


# Rows of these tables are copied to seed a warehouse; columns naming an article, page or story get a
# copy's suffix. Entities, topics and bookkeeping tables are shared by the copies and left alone.
SEEDED_TABLES = ("pages", "articles", "mentions", "article_topics", "article_subtopics", "article_entities",
                 "keyphrases", "article_enrichments", "article_clusters", "article_facts", "minhash_bands",
                 "embeddings")
COPY_ID = ("article_id", "page_id", "cluster_id", "matched_article_id")
COPY_URL = ("url", "canonical_url", "final_url")


def seed_warehouse(db: Path, pages: list[Path], articles: int, cpus: set[int], folder: Path) -> int:
    """Fill ``db`` to about ``articles`` articles: ingest the originals, then copy every article table's rows
    under new ids and URLs. Returns the articles it holds."""
    import duckdb

    folder.mkdir()
    build_corpus(pages, len(pages), folder)
    print(f"seeding: broadsheet ingest of the {len(pages)} originals ...", file=sys.stderr, flush=True)
    ingest(folder, cpus, db=db)
    with duckdb.connect(str(db)) as conn:
        (real,) = conn.execute("select count(*) from articles").fetchone()
        if not real:
            sys.exit("error: ingesting the originals loaded no article, so there is nothing to seed with")
        copies = max(0, -(-articles // real) - 1)
        print(f"seeding: copying {real} articles' rows {copies} times ...", file=sys.stderr, flush=True)
        for table in SEEDED_TABLES:
            columns = [row[0] for row in conn.execute(f"describe {table}").fetchall()]
            values = [f"{c} || '~' || k" if c in COPY_ID else f"{c} || '#seed-' || k" if c in COPY_URL else c
                      for c in columns]
            conn.execute(f"insert into {table} select {', '.join(values)} from {table}, "
                         f"range(1, {copies + 1}) copies(k)")
        conn.execute("checkpoint")
        (total,) = conn.execute("select count(*) from articles").fetchone()
    return int(total)


ROLES_NOTE = ("Peaks per role are each role's own highest in that tenth (they need not coincide, so they can add up "
              "to more than the tree's): flow is the `broadsheet ingest` process (the flow, DuckDB's loads), workers "
              "the extract and enrich processes, server Prefect's temporary API server.")
NOTE = ("Bare stages run in one process pinned to CPU 0 (ONNX Runtime on one thread). The two-core limit is twice the "
        "one-core limit. Ingest runs are the real CLI pinned to the first N CPUs (`pipeline.workers = 0` follows "
        "the affinity), Prefect's temporary server included, from process start to exit. Peak RSS sums every "
        "process of the run's tree (sampled every 0.2 s). Cores busy: the tree's CPU seconds over wall seconds times "
        "cores (median of the runs).")


def _walls(runs: list[Run]) -> str:
    return ", ".join(f"{r.wall:,.0f}" for r in runs)


def _cpu_median(runs: list[Run], role: str) -> float:
    return statistics.median(r.cpu[role] for r in runs)


def _display(path: Path) -> str:
    path = path.resolve()
    return f"eval/{path.relative_to(EVAL)}" if path.is_relative_to(EVAL) else path.name


if __name__ == "__main__":
    main()
