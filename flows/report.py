"""What a run tells its watchers: the run summary, source health with drift warnings, artifacts.

The summary counts documents per stage and groups rejections by stage and reason with an example
URL. Source health compares each source's extraction in this run (empty-body rate, missing-date
rate, mean text length) with its own history, and warns when a source drifts: a publisher that
changed its layout shows up here before anyone notices missing articles in a chart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from broadsheet.config.records import Rejection
from broadsheet.warehouse.runs import RunCounts
from broadsheet.warehouse.sql import query

MIN_HISTORY_ARTICLES = 20  # below this a source's history says too little to call a drift
MIN_RUN_DOCUMENTS = 5
RATE_DRIFT = 0.25  # absolute rise in empty-body or missing-date rate that counts as a drift
LENGTH_DRIFT = 0.5  # mean text length below this share of the usual


@dataclass
class RunSummary:
    """What one ingest run did; also the CLI's ``--json`` output."""

    run_id: str
    warehouse: str
    counts: RunCounts
    rejections: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    pending_batches: int = 0
    failed_sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)  # stage/reason -> the example's message
    failures: dict[str, str] = field(default_factory=dict)  # failed source -> why it could not be read

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "warehouse": self.warehouse, "counts": vars(self.counts),
                "rejections": self.rejections, "examples": self.examples, "messages": self.messages,
                "pending_batches": self.pending_batches, "failed_sources": self.failed_sources,
                "failures": self.failures, "warnings": self.warnings}


def summarise(run_id: str, path: Path, counts: RunCounts, rejections: list[Rejection], pending: int,
              source_locations: dict[str, str]) -> RunSummary:
    """The run's summary; a source whose own location was rejected at discovery failed as a whole."""
    by_reason = Counter(f"{r.stage}/{r.error_type}" for r in rejections)
    examples: dict[str, str] = {}
    messages: dict[str, str] = {}
    for rejection in rejections:
        examples.setdefault(f"{rejection.stage}/{rejection.error_type}", rejection.url)
        messages.setdefault(f"{rejection.stage}/{rejection.error_type}", rejection.message)
    failures = {r.source: r.message for r in rejections
                if r.stage == "discover" and source_locations.get(r.source) == r.url}
    return RunSummary(run_id, str(path), counts, dict(by_reason.most_common()), examples, pending,
                      sorted(failures), messages=messages, failures=dict(sorted(failures.items())))


def summary_markdown(summary: RunSummary) -> str:
    lines = ["# Ingest run", "", f"Warehouse: `{summary.warehouse}`", ""]
    lines += [f"**Warning:** {warning}" for warning in summary.warnings]
    lines += ["", "| stage | documents |", "|---|---|"]
    lines += [f"| {stage} | {value} |" for stage, value in vars(summary.counts).items()]
    if summary.pending_batches:
        lines += ["", f"**{summary.pending_batches} batch(es) staged but not loaded**: the warehouse was "
                      "locked; the next run loads them."]
    if summary.failures:
        lines += ["", "## Sources that could not be read", "", "| source | why |", "|---|---|"]
        lines += [f"| {source} | {_cell(message)} |" for source, message in summary.failures.items()]
    if summary.rejections:
        lines += ["", "## Rejections", "", "| stage/reason | count | example | message |", "|---|---|---|---|"]
        lines += [f"| {reason} | {count} | {summary.examples[reason]} | {_cell(summary.messages.get(reason, ''))} |"
                  for reason, count in summary.rejections.items()]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@dataclass(frozen=True)
class SourceHealth:
    """One source's extraction in this run beside its history (rates in 0..1, None when unknown)."""

    source: str
    documents: int
    empty_body_rate: float | None
    missing_date_rate: float | None
    mean_text_chars: float | None
    history_articles: int
    usual_empty_body_rate: float | None
    usual_missing_date_rate: float | None
    usual_text_chars: float | None

    def drift(self) -> list[str]:
        """What changed enough, against enough history, to tell someone."""
        if self.history_articles < MIN_HISTORY_ARTICLES or self.documents < MIN_RUN_DOCUMENTS:
            return []
        found = []
        for name, now, usual in (("empty-body rate", self.empty_body_rate, self.usual_empty_body_rate),
                                 ("missing-date rate", self.missing_date_rate, self.usual_missing_date_rate)):
            if now is not None and usual is not None and now - usual >= RATE_DRIFT:
                found.append(f"{name} {now:.0%} (usually {usual:.0%})")
        if self.mean_text_chars is not None and self.usual_text_chars and \
                self.mean_text_chars < LENGTH_DRIFT * self.usual_text_chars:
            found.append(f"mean text {self.mean_text_chars:.0f} chars (usually {self.usual_text_chars:.0f})")
        return [f"source {self.source!r} drifted: " + "; ".join(found)] if found else []


def source_health(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[SourceHealth]:
    """Health of every source that produced documents in ``run_id``, beside its earlier runs."""
    def number(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    return [SourceHealth(row[0], int(row[1] or 0), number(row[2]), number(row[3]), number(row[4]), int(row[5]),
                         number(row[6]), number(row[7]), number(row[8]))
            for row in conn.execute(query("source_health_of_run"), {"run": run_id}).fetchall()]


def health_markdown(health: list[SourceHealth]) -> str:
    def rate(value: float | None) -> str:
        return "" if value is None else f"{value:.0%}"

    lines = ["# Source health", "", "| source | documents | empty bodies | missing dates | mean text | "
             "usual empty | usual missing | usual text |", "|---|---|---|---|---|---|---|---|"]
    for h in health:
        lines.append(f"| {h.source} | {h.documents} | {rate(h.empty_body_rate)} | {rate(h.missing_date_rate)} | "
                     f"{h.mean_text_chars or 0:.0f} | {rate(h.usual_empty_body_rate)} | "
                     f"{rate(h.usual_missing_date_rate)} | {h.usual_text_chars or 0:.0f} |")
    warnings = [w for h in health for w in h.drift()]
    if warnings:
        lines += ["", *(f"**Warning:** {w}" for w in warnings)]
    return "\n".join(lines) + "\n"
