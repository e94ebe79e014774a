"""Throughput of the enrichment stage (entities, salience, keyphrases, topics) in articles/s, on 1 and 2 cores.

    python benchmarks/enrich_speed.py [--bbc DIR] [--articles N] [--cores 1,2] [--model M] [--results FILE]

Runs ``enrich_articles`` (what the ``enrich`` task does per batch) over the first N BBC News articles,
spread over the five classes, in a child process pinned to the given number of cores (with torch and
ONNX Runtime limited to as many threads) and the given ``topics.model`` (default: the setting);
models are loaded and warmed up before timing. Appends to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder


def measure(bbc: Path, articles: int, batch_size: int, model: str) -> dict[str, float]:
    """Run in the pinned child: articles/s of enrich_articles over ``articles`` articles."""
    from broadsheet.config.settings import apply_process_environment, load_settings

    apply_process_environment(quiet=True)
    cores = len(os.sched_getaffinity(0))
    from quality_topics import read_bbc

    from broadsheet.tasks.enrich import enrich_articles

    corpus, _ = read_bbc(bbc, 1)
    chosen = corpus[:: max(1, len(corpus) // articles)][:articles]
    settings = load_settings(topics={"threads": cores, **({"model": model} if model else {})})
    enrich_articles(chosen[:8], settings)  # load and warm up the models
    start = time.perf_counter()
    for i in range(0, len(chosen), batch_size):
        enrich_articles(chosen[i:i + batch_size], settings)
    seconds = time.perf_counter() - start
    return {"articles": len(chosen), "seconds": seconds, "rate": len(chosen) / seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bbc", type=Path, default=EVAL / "bbc-news")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--cores", default="1,2", help="Comma-separated core counts to measure.")
    parser.add_argument("--model", default="", help="topics.model to embed with (default: the setting).")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--no-record", action="store_true", help="Print only; do not append to RESULTS.md.")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.bbc, args.articles, args.batch_size, args.model)))
        return
    require_folder(args.bbc, "BBC News")
    rows = []
    load_before = os.getloadavg()[0]
    for cores in (int(c) for c in args.cores.split(",")):
        pinned = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores])
        done = subprocess.run(["taskset", "-c", pinned, sys.executable, __file__, "--child", "--bbc", str(args.bbc),
                               "--articles", str(args.articles), "--batch-size", str(args.batch_size),
                               "--model", args.model],
                              capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append([str(cores), str(result["articles"]), f"{result['seconds']:.1f}", f"{result['rate']:.1f}"])
        print(rows[-1], flush=True)
    table = markdown_table(["cores", "articles", "seconds", "articles/s"], rows)
    print(table)
    if not args.no_record:
        append_section("Enrichment throughput (benchmarks/enrich_speed.py)",
                       {"batch size": str(args.batch_size), "input": "BBC News articles, title + body",
                        "topics.model": args.model or "the setting's",
                        "load average (1 min) before / after": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"},
                       table,
                       *([args.results] if args.results else []))


if __name__ == "__main__":
    main()
