"""Worker processes: the same results as one process, in order, and a dying worker costs one document."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from helpers import article_html, process_running

from broadsheet.config.records import Page
from broadsheet.config.settings import Settings
from broadsheet.tasks import workers

TOPICS = ("harbour", "budget", "league", "vaccine", "flood", "chips", "rail")


def with_workers(settings: Settings, count: int, chunk: int = 2) -> Settings:
    pipeline = settings.pipeline.model_copy(update={"workers": count, "worker_chunk": chunk})
    return settings.model_copy(update={"pipeline": pipeline})


@pytest.fixture(scope="module")
def pool() -> Iterator[None]:
    """Worker processes for the module (each loads the models once), none running before, stopped after."""
    workers.shutdown()
    yield
    workers.shutdown()


def pages() -> list[Page]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    found = []
    for number, name in enumerate(TOPICS):
        text = " ".join([f"The {name} plan was approved by Mayor Ana Ruiz in Lisbon on Monday."] * (number + 2)
                        + [f"Officials at the European Commission said the {name} decision changes the city."])
        html = article_html(f"{name.title()} plan approved", text).encode()
        found.append(Page(f"https://news.example/{name}", f"https://news.example/{name}", "test", html,
                          "text/html", now))
    found.insert(3, Page("https://news.example/empty", "https://news.example/empty", "test",
                         b"<html><body><p>tiny</p></body></html>", "text/html", now))
    return found


def test_workers_start_for_a_source_worth_them_with_models_only_for_unseen_documents(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from broadsheet.config.records import Candidate, Discovery
    from broadsheet.flows import ingest

    started: list[bool] = []
    monkeypatch.setattr(workers, "start", lambda settings, models=True: started.append(models))
    parallel = with_workers(settings, 2, chunk=10)
    found = Discovery(candidates=[Candidate(f"https://news.example/{n}", "test") for n in range(21)])
    ingest._start_workers(Discovery(candidates=found.candidates[:20]), parallel)  # one job per worker: no pool
    ingest._start_workers(found, parallel)  # no warehouse yet: every document is new
    monkeypatch.setattr(ingest, "seen_urls", lambda target, urls: set(urls))
    ingest._start_workers(found, parallel)  # a re-run: workers, but no models until something needs them
    assert started == [True, False]


@pytest.mark.slow
def test_the_pool_gives_what_one_process_gives_in_document_order(settings: Settings, pool: None) -> None:
    alone, parallel = with_workers(settings, 1), with_workers(settings, 2)
    expected_articles, expected_rejections = workers.extract_pages(pages(), alone)
    expected = workers.enrich(expected_articles, alone)
    assert workers._pool is None  # one worker: everything ran in this process

    workers.start(parallel)
    assert workers._pool is not None
    articles, rejections = workers.extract_pages(pages(), parallel)
    enriched, enrichments, crashed = workers.enrich(articles, parallel)

    assert articles == expected_articles and len(articles) == len(TOPICS)
    assert [r.url for r in rejections] == [r.url for r in expected_rejections] == ["https://news.example/empty"]
    assert enriched == articles and crashed == []
    assert [e.article_id for e in enrichments] == [a.article_id for a in articles]
    for got, want in zip(enrichments, expected[1], strict=True):
        assert (got.entities, got.mentions, got.salience, got.keyphrases) == \
               (want.entities, want.mentions, want.salience, want.keyphrases)
        assert [t.topic_id for t in got.topics] == [t.topic_id for t in want.topics]
        # the same model; int8 kernels on another thread count round a little differently
        assert sum(a * b for a, b in zip(got.embedding, want.embedding, strict=True)) > 0.99


def _dies_on_boom(items: list[str], settings: Settings) -> list[str]:
    """A job (importable by the workers) whose process dies on the item "boom", as a segfault would."""
    if "boom" in items:
        os._exit(11)
    return [item.upper() for item in items]


@pytest.mark.slow
def test_a_worker_that_dies_costs_only_its_document(settings: Settings, pool: None) -> None:
    parallel = with_workers(settings, 2, chunk=2)
    workers.start(parallel)
    items = ["a", "b", "boom", "c", "d", "e"]
    results = workers._map(_dies_on_boom, items, parallel, lambda item, error: [f"crashed {item}"], "extract")  # type: ignore[arg-type]
    assert [r for part in results for r in part] == ["A", "B", "crashed boom", "C", "D", "E"]
    # the pool was restarted and works on
    assert workers._map(_dies_on_boom, ["f", "g", "h"], parallel, lambda item, error: [], "extract")  # type: ignore[arg-type]


@pytest.mark.usefixtures("prefect_harness", "pool")
def test_a_multi_batch_ingest_on_two_workers_loads_what_one_worker_loads(settings: Settings, tmp_path: Path) -> None:
    from broadsheet.config.sources import source_from_argument
    from broadsheet.flows.ingest import ingest_flow

    folder = tmp_path / "pages"
    folder.mkdir()
    for page in pages():
        (folder / f"{page.url.rsplit('/', 1)[1]}.html").write_bytes(page.content)
    loaded = {}
    for count in (1, 2):
        run = with_workers(settings, count)
        run = run.model_copy(update={
            "pipeline": run.pipeline.model_copy(update={"batch_size": 3}),
            "warehouse": run.warehouse.model_copy(update={"path": tmp_path / f"w{count}.duckdb"})})
        summary = ingest_flow([source_from_argument(str(folder))], run)
        assert summary.counts.loaded == len(TOPICS) and summary.rejections == {"extract/no_text": 1}
        with duckdb.connect(str(run.warehouse.path), read_only=True) as conn:
            loaded[count] = conn.execute(
                "select a.title, count(distinct m.entity_id), count(distinct t.topic_id) from articles a "
                "left join mentions m using (article_id) left join article_topics t using (article_id) "
                "group by a.title order by a.title").fetchall()
    assert loaded[1] == loaded[2] and len(loaded[2]) == len(TOPICS)


def _slow_or_dies(items: list[str], settings: Settings) -> list[str]:
    """Dies on "boom"; on "slow PATH" creates PATH (it is running) and takes two seconds."""
    for item in items:
        if item == "boom":
            os._exit(11)
        if item.startswith("slow "):
            Path(item.removeprefix("slow ")).touch()
            time.sleep(2)
    return [item.upper() for item in items]


@pytest.mark.slow
def test_a_retry_is_never_rejected_for_another_jobs_crash(settings: Settings, pool: None, tmp_path: Path) -> None:
    """Another batch's job, lost with the pool when "boom" killed a worker, is retried while "boom" is
    retried: "boom"'s second death must not take the other retry down with it."""
    parallel = with_workers(settings, 2, chunk=1)
    workers.start(parallel)
    running = tmp_path / "running"
    other: list[list[str]] = []
    batch = threading.Thread(target=lambda: other.extend(workers._map(
        _slow_or_dies, [f"slow {running}"], parallel, lambda item, error: [f"crashed {item}"], "extract")))  # type: ignore[arg-type]
    batch.start()
    for _ in range(600):  # the other batch's job is on a worker
        if running.exists():
            break
        time.sleep(0.1)
    assert running.exists()
    mine = workers._map(_slow_or_dies, ["boom"], parallel, lambda item, error: [f"crashed {item}"], "extract")  # type: ignore[arg-type]
    batch.join(timeout=120)
    assert mine == [["crashed boom"]]
    assert other == [[f"slow {running}".upper()]]


_ENRICH_JOB = workers._enrich_job


def _enrich_or_die(articles: list, settings: Settings) -> tuple:
    """The enrich job, except that its process dies on the budget article (importable by the workers)."""
    if any(a.title.startswith("Budget") for a in articles):
        os._exit(11)
    return _ENRICH_JOB(articles, settings)


@pytest.mark.usefixtures("prefect_harness", "pool")
def test_an_ingest_of_several_batches_rejects_the_article_that_kills_its_worker_and_only_it(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from broadsheet.config.sources import source_from_argument
    from broadsheet.flows.ingest import ingest_flow

    monkeypatch.setattr(workers, "_enrich_job", _enrich_or_die)
    folder = tmp_path / "pages"
    folder.mkdir()
    for page in pages():
        (folder / f"{page.url.rsplit('/', 1)[1]}.html").write_bytes(page.content)
    run = with_workers(settings, 2, chunk=1)
    run = run.model_copy(update={
        "pipeline": run.pipeline.model_copy(update={"batch_size": 3}),
        "warehouse": run.warehouse.model_copy(update={"path": tmp_path / "w.duckdb"})})
    summary = ingest_flow([source_from_argument(str(folder))], run)

    assert summary.rejections == {"extract/no_text": 1, "enrich/worker_crashed": 1}
    assert summary.counts.loaded == len(TOPICS) - 1
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select url from rejections where error_type = 'worker_crashed'").fetchall() == \
               [((folder / "budget.html").as_uri(),)]


@pytest.mark.slow
def test_workers_are_replaced_after_their_jobs_and_nothing_is_lost(settings: Settings, pool: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "JOBS_PER_WORKER", 2)
    parallel = with_workers(settings, 2, chunk=1)
    workers.start(parallel)
    first = workers._pool
    items = [f"item {n}" for n in range(12)]
    results = workers._map(_dies_on_boom, items, parallel, lambda item, error: [], "extract")  # type: ignore[arg-type]
    assert [r for part in results for r in part] == [item.upper() for item in items]
    assert workers._pool is not None and workers._pool is not first


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(workers._MALLOC_TRIM is None or not Path("/proc/self/statm").exists(),
                    reason="needs glibc's malloc_trim and /proc")
def test_freed_memory_goes_back_to_the_system() -> None:
    # 150 MB of 2 KB blocks from malloc (above pymalloc's 512 bytes); one block in 50 stays, so the heap
    # cannot shrink from its top and glibc keeps the freed pages until they are handed back.
    blocks = [bytes(2048) + i.to_bytes(4, "little") for i in range(75_000)]
    kept = blocks[::50]
    del blocks
    before = _rss_mb()
    workers.release_freed_memory()
    after = _rss_mb()
    assert len(kept) == 1_500
    assert before - after > 100, (before, after)


ORPHAN_DRIVER = """
import os, sys, threading, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from broadsheet.config.processes import exit_with_parent

def watch():
    exit_with_parent(os.getppid(), 0.1)

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=watch if sys.argv[1] == "watched" else None)
    print(pool.submit(os.getpid).result(), flush=True)
    threading.Event().wait()
"""



@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
@pytest.mark.parametrize("kind", ["watched", "unwatched"])
def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path, kind: str) -> None:
    import signal
    import subprocess
    import sys

    (tmp_path / "driver.py").write_text(ORPHAN_DRIVER)
    parent = subprocess.Popen([sys.executable, "driver.py", kind], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: nothing of the parent's can stop its pool
    parent.wait(timeout=30)
    deadline = time.monotonic() + (15 if kind == "watched" else 3)
    while process_running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphaned = process_running(worker)
    if orphaned:
        os.kill(worker, signal.SIGKILL)
    assert orphaned == (kind == "unwatched")  # the unwatched one shows what the watch prevents


STARTING_ORPHAN_DRIVER = """
import os, time
from broadsheet.config.settings import load_settings
from broadsheet.tasks import workers

if __name__ == "__main__":
    pool = workers._new_pool(1, load_settings())
    pool.submit(int)  # spawns the worker; this process dies before the worker's initializer runs
    print(*pool._processes, flush=True)
    os._exit(0)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_worker_whose_parent_dies_while_it_starts_ends_too(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    (tmp_path / "driver.py").write_text(STARTING_ORPHAN_DRIVER)
    done = subprocess.run([sys.executable, "driver.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 60
    while process_running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    orphaned = process_running(worker)
    if orphaned:
        os.kill(worker, signal.SIGKILL)
    assert not orphaned
