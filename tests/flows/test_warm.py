"""Warm workers shared by scheduled runs: the same worker processes run after run, gone once idle."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import article_html, process_running

from broadsheet.config.settings import Settings
from broadsheet.config.sources import source_from_argument
from broadsheet.flows.ingest import ingest_flow
from broadsheet.tasks import warm, workers
from broadsheet.tasks.enrich import embeddings, entities, tagger

pytestmark = pytest.mark.usefixtures("prefect_harness")
LOADERS = (embeddings.load_encoder, tagger.load_tagger, entities.load_pos_pipeline, entities.load_pipeline)


@pytest.fixture
def scheduled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Flow runs that take themselves for deployment runs, with a worker service of their own (its socket in a
    short cache folder); yields a list the test adds service pids to, ended at teardown if still running."""
    cache = Path(tempfile.mkdtemp(prefix="bw-", dir="/tmp"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", str(uuid.uuid4()))
    services: list[int] = []
    yield services
    for pid in services:
        if process_running(pid):
            os.kill(pid, signal.SIGTERM)  # its workers follow it within a second or two
    shutil.rmtree(cache, ignore_errors=True)



def warm_settings(settings: Settings, idle_seconds: float) -> Settings:
    pipeline = settings.pipeline.model_copy(update={"workers": 2, "worker_idle_seconds": idle_seconds})
    return settings.model_copy(update={"pipeline": pipeline})


def folder_of_articles(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    for topic in ("harbour", "budget", "league"):
        text = (f"The {name} {topic} plan was approved by Mayor Ana Ruiz in Lisbon on Monday. Officials at the "
                f"European Commission said the {topic} decision changes how the city works this year.")
        (folder / f"{topic}.html").write_text(article_html(f"{name.title()} {topic} plan", text), encoding="utf-8")
    return folder


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_scheduled_runs_share_the_same_warm_workers(settings: Settings, scheduled: list[int], tmp_path: Path) -> None:
    chosen = warm_settings(settings, idle_seconds=600)
    for loader in LOADERS:
        loader.cache_clear()
    seen = []
    for name in ("first", "second"):
        summary = ingest_flow([source_from_argument(str(folder_of_articles(tmp_path, name)))], chosen)
        assert summary.counts.loaded == 3
        status = warm.service_status()
        assert status is not None
        scheduled.append(status["pid"])
        seen.append(status)
    assert len(seen[0]["workers"]) == 2 and seen[1] == seen[0]  # the same service, the same worker processes
    assert [loader.cache_info().currsize for loader in LOADERS] == [0, 0, 0, 0]  # no model loaded here


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_warm_workers_end_once_idle(settings: Settings, scheduled: list[int], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The service's processes are read while the run is attached: a second after the run it may be gone already.
    seen: list[dict] = []
    attach = warm.attach

    def attach_and_look(*args: object) -> bool:
        attached = attach(*args)  # type: ignore[arg-type]
        seen.append(warm.service_status() or {})
        return attached

    monkeypatch.setattr(warm, "attach", attach_and_look)
    summary = ingest_flow([source_from_argument(str(folder_of_articles(tmp_path, "only")))],
                          warm_settings(settings, idle_seconds=1))
    assert summary.counts.loaded == 3
    [status] = seen
    assert len(status["workers"]) == 2
    scheduled.append(status["pid"])
    processes = [status["pid"], *status["workers"]]
    deadline = time.monotonic() + 120
    while any(process_running(pid) for pid in processes) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(process_running(pid) for pid in processes)
    assert warm.service_status() is None


def test_a_service_folder_others_may_enter_is_not_used(settings: Settings, scheduled: list[int]) -> None:
    folder = warm.service_address().parent
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    assert not warm.attach(warm_settings(settings, idle_seconds=600), models=False)
    assert workers._submitter() is None  # the run goes on with workers of its own (or none)
    assert warm.service_status() is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_service_lost_mid_run_costs_no_document(settings: Settings, scheduled: list[int]) -> None:
    from test_workers import pages

    chosen = warm_settings(settings, idle_seconds=600)
    expected = workers.extract_pages(pages()[:3], chosen)  # in this process: nothing attached
    assert warm.attach(chosen, models=False)
    status = warm.service_status()
    assert status is not None
    scheduled.append(status["pid"])
    os.kill(status["pid"], signal.SIGKILL)
    try:
        # whether the loss is seen before the jobs go out (this process) or after (each retried alone)
        assert workers.extract_pages(pages()[:3], chosen) == expected
        assert workers._submitter() is None  # later jobs stay in the run's process
    finally:
        warm.detach()


def test_the_service_is_another_one_once_the_code_changes(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "models" / "ner").mkdir(parents=True)
    stage = tmp_path / "tasks" / "stage.py"
    stage.write_text("RULES = 1\n")
    (tmp_path / "models" / "ner" / "manifest.json").write_text('{"version": "1"}')
    before = warm.code_fingerprint(tmp_path)
    (tmp_path / "tasks" / "notes.txt").write_text("not code")
    assert warm.code_fingerprint(tmp_path) == before
    stage.write_text("RULES = 22\n")  # an update: another size
    after = warm.code_fingerprint(tmp_path)
    assert after != before
    os.utime(stage, ns=(stage.stat().st_atime_ns, stage.stat().st_mtime_ns + 1_000_000_000))  # same size, later
    assert warm.code_fingerprint(tmp_path) != after
