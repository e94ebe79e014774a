"""Run reports: the summary, failed sources, and source health with drift warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadsheet.config.records import Article, Batch, Rejection
from broadsheet.flows.report import SourceHealth, health_markdown, source_health, summarise, summary_markdown
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.loading import load_staged
from broadsheet.warehouse.runs import RunCounts
from broadsheet.warehouse.staging import stage_batch, staging_dir

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def health(**changes: object) -> SourceHealth:
    usual = {"source": "coast", "documents": 20, "empty_body_rate": 0.05, "missing_date_rate": 0.1,
             "mean_text_chars": 3000.0, "history_articles": 200, "usual_empty_body_rate": 0.05,
             "usual_missing_date_rate": 0.1, "usual_text_chars": 3100.0}
    return SourceHealth(**{**usual, **changes})  # type: ignore[arg-type]


def test_a_steady_source_does_not_drift() -> None:
    assert health().drift() == []


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [({"empty_body_rate": 0.6}, "empty-body rate 60% (usually 5%)"),
     ({"missing_date_rate": 0.9}, "missing-date rate 90% (usually 10%)"),
     ({"mean_text_chars": 900.0}, "mean text 900 chars (usually 3100)")],
)
def test_a_changed_layout_is_a_drift(changes: dict, phrase: str) -> None:
    [warning] = health(**changes).drift()
    assert warning.startswith("source 'coast' drifted: ") and phrase in warning


@pytest.mark.parametrize("changes", [{"history_articles": 5, "empty_body_rate": 0.9},
                                     {"documents": 2, "empty_body_rate": 0.9}])
def test_too_little_evidence_is_no_drift(changes: dict) -> None:
    assert health(**changes).drift() == []


def test_summary_names_failed_sources_and_groups_rejections() -> None:
    rejections = [Rejection("discover", "https://dead.example/rss", "dead", "http_status", "HTTP 404"),
                  Rejection("fetch", "https://ok.example/a", "ok", "http_status", "HTTP 404"),
                  Rejection("fetch", "https://ok.example/b", "ok", "http_status", "HTTP 404")]
    summary = summarise("r1", Path("w.duckdb"), RunCounts(rejected=3), rejections, 0,
                        {"dead": "https://dead.example/rss", "ok": "https://ok.example/rss"})
    assert summary.failed_sources == ["dead"]
    assert summary.rejections == {"fetch/http_status": 2, "discover/http_status": 1}
    text = summary_markdown(summary)
    assert "| fetch/http_status | 2 | https://ok.example/a |" in text
    assert "| rejected | 3 |" in text


def _article(article_id: str, published: datetime | None, text: str) -> Article:
    return Article(article_id, f"https://c.example/{article_id}", f"https://c.example/{article_id}", "coast",
                   "T", (), published, "en", None, text, article_id, NOW, "test")


def test_source_health_from_the_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    old = [_article(f"old{i}", NOW, "x" * 2000) for i in range(25)]
    new = [_article(f"new{i}", None, "x" * 400) for i in range(4)]
    empty = [Rejection("extract", f"https://c.example/e{i}", "coast", "no_text", "no text") for i in range(4)]
    stage_batch(Batch(articles=old), "run1", staging_dir(path))
    stage_batch(Batch(articles=new, rejections=empty), "run2", staging_dir(path))
    conn = connect(path)
    try:
        load_staged(conn, staging_dir(path))
        [now] = source_health(conn, "run2")
    finally:
        conn.close()
    assert (now.documents, now.empty_body_rate, now.missing_date_rate, now.mean_text_chars) == (8, 0.5, 1.0, 400.0)
    assert (now.history_articles, now.usual_empty_body_rate, now.usual_missing_date_rate) == (25, 0.0, 0.0)
    assert now.usual_text_chars == 2000.0
    warnings = now.drift()
    assert len(warnings) == 1 and "empty-body rate 50%" in warnings[0] and "missing-date rate 100%" in warnings[0]
    assert "**Warning:** source 'coast' drifted" in health_markdown([now])


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_reports_progress_and_names_task_runs_after_batches(tmp_path: Path) -> None:
    from prefect import tags
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from broadsheet.config.settings import load_settings
    from broadsheet.config.sources import source_from_argument
    from broadsheet.flows.demo import CORPUS_DIR
    from broadsheet.flows.ingest import ingest_flow
    from broadsheet.tasks import progress

    settings = load_settings(warehouse={"path": tmp_path / "w.duckdb"}, pipeline={"batch_size": 4})
    seen: list[tuple[str, int, int]] = []
    with progress.reporting(lambda stage, finished, expected: seen.append((stage, finished, expected))), \
            tags("broadsheet", "source:demo"):  # as the CLI tags its runs
        summary = ingest_flow([source_from_argument(str(CORPUS_DIR))], settings)
    assert seen[:2] == [("fetch", 0, 6), ("batches", 0, 2)]  # the total, as soon as discovery knows it
    for stage in ("fetch", "extract", "enrich", "batches"):  # every stage finishes what it expected
        assert sum(f for s, f, _ in seen if s == stage) == sum(e for s, _, e in seen if s == stage) > 0, stage
    assert [f for s, f, _ in seen if s == "batches" and f] == [1, 1]  # one batch at a time
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[summary.run_id])))
        flow_run = client.read_flow_run(summary.run_id)
    names = {run.name for run in runs}
    assert {"fetch batch 1/2 (documents 1-4 of 6)", "load batch 2/2 (documents 5-6 of 6)"} <= names
    # Tags are the flow run's: a tagged task run would cost two API round trips for concurrency slots.
    assert set(flow_run.tags) == {"broadsheet", "source:demo"}
    assert [run.tags for run in runs] == [[] for _ in runs]
