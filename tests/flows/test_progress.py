"""Progress moves as the workers finish jobs, not only when a batch is loaded."""

from __future__ import annotations

from broadsheet.config.records import Candidate
from broadsheet.config.settings import Settings
from broadsheet.flows.demo import CORPUS_DIR
from broadsheet.tasks import progress, workers
from broadsheet.tasks.fetch import file_url, read_local


def test_extraction_reports_each_job_as_it_finishes(settings: Settings) -> None:
    pages = [read_local(Candidate(file_url(path), "demo"), 10**7) for path in sorted(CORPUS_DIR.glob("*.html"))[:5]]
    chunked = settings.model_copy(update={"pipeline": settings.pipeline.model_copy(
        update={"workers": 1, "worker_chunk": 2})})
    seen: list[tuple[str, int, int]] = []
    with progress.reporting(lambda stage, finished, expected: seen.append((stage, finished, expected))):
        articles, rejected = workers.extract_pages(pages, chunked)
    assert seen == [("extract", 2, 0), ("extract", 2, 0), ("extract", 1, 0)]
    assert len(articles) + len(rejected) == 5

