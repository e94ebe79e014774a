"""Extraction and enrichment spread over worker processes, one per usable CPU by default.

trafilatura and spaCy hold Python's GIL, so threads cannot use a second core: the CPU-bound stages
run in a pool of ``pipeline.workers`` processes, started once per process with the *spawn* method
(none inherits Prefect's threads or locks), each loading its models once: as it starts when the run has
something new, else at its first enrichment (a re-run loads none). A batch is cut
into jobs of ``pipeline.worker_chunk`` documents that go to whichever worker is free, so one long
article does not hold the others up; results come back in document order.

Starting workers costs seconds of CPU each (imports, then spaCy and the ONNX models), so the pool runs only
once :func:`start` asked for it (the ingest flow does for a source with more documents than one job per
worker); until then, and with one worker, the work runs in this process: no start-up, no copies.

To keep memory down on long runs, after each job a worker hands the memory it freed back to the system
(glibc otherwise keeps it: about 200 MB a worker), the workers are replaced after ``JOBS_PER_WORKER``
jobs each, and they never import torch.

A job that raises (a library's bug, a field no model takes) or whose worker dies (a parser's segfault, the
kernel's OOM killer) loses only its own documents: they are retried one by one, each alone (in a process
of its own when there is a pool, which is restarted after a death); a document that raises alone becomes
an ``extract_failed`` or ``enrich_failed`` rejection, one that kills its process too a ``worker_crashed``
rejection, and the run goes on. One document never fails a batch, and so never every run that reads it.
A worker whose parent is gone (killed, so it could not stop its pool) exits within a second or two
rather than holding its models' memory for good.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from broadsheet.config.processes import exit_with_parent
from broadsheet.config.records import Article, Enrichment, Page, Rejection, Stage
from broadsheet.config.settings import Settings
from broadsheet.tasks import progress

Item = TypeVar("Item", Page, Article)
Result = TypeVar("Result")
T = TypeVar("T")
QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan")
# The pool is replaced by a fresh one after this many jobs per worker: spaCy's string store and the
# allocators' arenas only grow, so replacing them bounds what a long run accumulates (new workers load
# their models in about two seconds). Done here rather than with max_tasks_per_child, which can hang Python 3.11's pool.
JOBS_PER_WORKER = 200

Submit = Callable[..., "Future[Any]"]  # (workers, job, chunk, settings) -> the job's future, as _submit takes them

_pool: ProcessPoolExecutor | None = None
_shared: Submit | None = None  # warm workers a scheduled run hands its jobs to (tasks.warm), having no pool
_pool_size = 0
_pool_jobs = 0
_pool_lock = threading.Lock()
_retry_lock = threading.Lock()


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, as ``taskset`` sets it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(settings: Settings) -> int:
    return settings.pipeline.workers or usable_cpus()


def _sharing_cpus(settings: Settings, workers: int) -> Settings:
    """``settings`` with the embedding model's and the tagger's threads (when left to broadsheet: 0) set to
    each worker's share of the CPUs, so that workers do not fight over cores."""
    share = max(1, usable_cpus() // workers)
    topics = settings.topics.model_copy(update={"threads": settings.topics.threads or share})
    entities = settings.entities.model_copy(update={"threads": settings.entities.threads or share})
    return settings.model_copy(update={"topics": topics, "entities": entities})


def start(settings: Settings, models: bool = True) -> None:
    """Start the worker processes, unless ``settings`` want one worker; each loads its models too when ``models``
    (else at its first enrichment, if any: a run with nothing new loads none).

    Returns at once: the workers start while the caller goes on (fetching the first batch, say)."""
    workers = worker_count(settings)
    if workers < 2:
        return
    settings = _sharing_cpus(settings, workers)
    with _pool_lock:
        pool = _ensure_pool(workers, settings)
    for _ in range(workers):  # the pool spawns a process per job waiting while it has fewer than `workers`
        if models:  # a worker busy loading leaves the next job to another: most likely one load each
            pool.submit(_load_models, settings)
        else:
            pool.submit(int)


def extract_pages(pages: list[Page], settings: Settings) -> tuple[list[Article], list[Rejection]]:
    """:func:`extract_articles` over the workers; articles and rejections in page order."""
    parts = _map(_extract_job, pages, settings, lambda page, error: ([], [_rejected("extract", page, error)]),
                 "extract")
    return ([a for part in parts for a in part[0]], [r for part in parts for r in part[1]])


def enrich(articles: list[Article], settings: Settings) -> tuple[list[Article], list[Enrichment], list[Rejection]]:
    """:func:`enrich_articles` over the workers: the articles enriched (in order), their enrichments,
    and a rejection for each article that raised or crashed its worker twice."""
    parts = _map(_enrich_job, articles, settings,
                 lambda article, error: ([], [], [_rejected("enrich", article, error)]), "enrich")
    return ([a for part in parts for a in part[0]], [e for part in parts for e in part[1]],
            [r for part in parts for r in part[2]])


def _run_job(job: Callable[[list[Item], Settings], Result], chunk: list[Item], settings: Settings) -> Result:
    """``job`` over ``chunk``, then the memory it freed returned to the system."""
    try:
        return job(chunk, settings)
    finally:
        release_freed_memory()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc: its allocator returns memory by itself, or cannot
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give the memory Python and the libraries freed back to the system: glibc keeps freed blocks in its
    arenas for reuse, so without this a process's RSS stays at its highest."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _extract_job(pages: list[Page], settings: Settings) -> tuple[list[Article], list[Rejection]]:
    from broadsheet.tasks.extract import extract_articles

    return extract_articles(pages, settings.extract)


def _enrich_job(articles: list[Article], settings: Settings) -> tuple[list[Article], list[Enrichment], list[Rejection]]:
    from broadsheet.tasks.enrich import enrich_articles

    return articles, enrich_articles(articles, settings), []


def _load_models(settings: Settings) -> None:
    """Load (and cache in this process) the models ``settings`` enrich with, and what names their versions."""
    from broadsheet.tasks.enrich import current_enrichers, load_models

    current_enrichers(settings)
    load_models(settings)


def _rejected(stage: Stage, item: Page | Article, error: Exception | None) -> Rejection:
    """The rejection of a document that raised ``error`` alone, or (None) killed its worker twice."""
    log = logging.getLogger(__name__)
    if error is None:
        log.warning("a %s worker died twice on %s; the document is rejected", stage, item.url)
        return Rejection(stage, item.url, item.source, "worker_crashed",
                         f"the {stage} worker process died on this document twice (a crash or out of memory)")
    log.warning("%s raised %r on %s; the document is rejected", stage, error, item.url)
    return Rejection(stage, item.url, item.source, f"{stage}_failed",
                     f"{stage} raised {type(error).__name__} on this document alone: {str(error)[:300]} "
                     "(a defect in broadsheet or a library: report it with the document)")


Rejected = Callable[[Item, Exception | None], Result]


def _map(job: Callable[[list[Item], Settings], Result], items: list[Item], settings: Settings,
         rejected: Rejected[Item, Result], stage: str) -> list[Result]:
    """``job`` over ``items`` in chunks, in this process or over the pool, in order: one result per chunk,
    or per document of a chunk that raised or died (``rejected(document, error)`` for each that fails alone).
    Each chunk is reported to :mod:`~broadsheet.tasks.progress` as ``stage`` as soon as it is done."""
    workers, size = worker_count(settings), settings.pipeline.worker_chunk
    settings = _sharing_cpus(settings, workers)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    submit = _submitter()
    if workers < 2 or submit is None:
        return [result for chunk in chunks
                for result in _reported(_guarded(lambda part: _run_job(job, part, settings), chunk, rejected),
                                        stage, len(chunk))]
    futures = [submit(workers, job, chunk, settings) for chunk in chunks]
    for chunk, future in zip(chunks, futures, strict=True):
        future.add_done_callback(_advance_when_done(stage, len(chunk)))
    results: list[Result] = []
    for chunk, future in zip(chunks, futures, strict=True):
        try:
            results.append(future.result())
        except Exception:  # a dead worker (BrokenProcessPool) or the job's own exception
            results += _reported(_retry_alone(job, chunk, settings, rejected), stage, len(chunk))
    return results


def _guarded(run: Callable[[list[Item]], Result], chunk: list[Item], rejected: Rejected[Item, Result]) -> list[Result]:
    """``run(chunk)``; if it raises, ``run`` of each document alone. Exception only: Ctrl-C still stops."""
    try:
        return [run(chunk)]
    except Exception as exc:
        if len(chunk) == 1:
            return [rejected(chunk[0], exc)]
        return [result for item in chunk for result in _guarded(run, [item], rejected)]


def _advance_when_done(stage: str, documents: int) -> Callable[[Future[Any]], None]:
    """A callback reporting a job's documents as the worker hands it back (a lost job is reported on retry)."""
    def advance(future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            progress.advance(stage, documents)
    return advance


def _reported(results: T, stage: str, documents: int) -> T:
    progress.advance(stage, documents)
    return results


def _retry_alone(job: Callable[[list[Item], Settings], Result], chunk: list[Item], settings: Settings,
                 rejected: Rejected[Item, Result]) -> list[Result]:
    """The documents of a job that raised or lost its worker, one by one in a process of their own: away
    from the pool and one retry at a time, so that a process dying there was killed by its own document (on
    the shared pool, the other batch's killer could take an innocent retry down with it). A document whose
    process dies becomes ``rejected(document, None)``, one that raises ``rejected(document, error)``; the
    next one gets a new process after a death."""
    results: list[Result] = []
    with _retry_lock:
        alone: ProcessPoolExecutor | None = None
        try:
            for item in chunk:
                alone = alone or _new_pool(1, settings)
                try:
                    results.append(alone.submit(_run_job, job, [item], settings).result())
                except BrokenProcessPool:
                    results.append(rejected(item, None))
                    alone.shutdown(wait=True)
                    alone = None
                except Exception as exc:
                    results.append(rejected(item, exc))
        finally:
            if alone is not None:
                alone.shutdown(wait=True)
    return results


def _submit(workers: int, job: Callable[[list[Item], Settings], Result], chunk: list[Item],
            settings: Settings) -> Future[Result]:
    global _pool_jobs
    with _pool_lock:
        if _pool_jobs >= JOBS_PER_WORKER * workers:
            _shutdown()  # waits for the jobs already given to the old workers, then replaces them
        pool = _ensure_pool(workers, settings)
        _pool_jobs += 1
        try:
            return pool.submit(_run_job, job, chunk, settings)
        except BrokenProcessPool:
            _shutdown()
            return _ensure_pool(workers, settings).submit(_run_job, job, chunk, settings)


def _submitter() -> Submit | None:
    """Where this process's jobs go: its own pool, else the warm workers it was given, else None (this process)."""
    return _submit if _pool is not None else _shared


def use_shared(submit: Submit | None) -> None:
    """Hand this process's jobs, while it starts no pool of its own, to ``submit`` (the warm workers of
    :mod:`broadsheet.tasks.warm`); None: no longer."""
    global _shared
    _shared = submit


def submit(workers: int, job: Callable[[list[Item], Settings], Result], chunk: list[Item],
           settings: Settings) -> Future[Result]:
    """``job`` over ``chunk`` on this process's pool of ``workers`` (started, or replaced, as needed): what the
    warm workers' service does with each job a run sends it."""
    return _submit(workers, job, chunk, settings)


def worker_pids() -> list[int]:
    """The process ids of this process's pool, if it has one."""
    with _pool_lock:
        processes = getattr(_pool, "_processes", None) or {}
        return sorted(processes)


def _ensure_pool(workers: int, settings: Settings) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != workers or _pool._broken:  # broken: a worker died
        _shutdown()
        _pool = _new_pool(workers, settings)
        _pool_size = workers
    return _pool


def _new_pool(workers: int, settings: Settings) -> ProcessPoolExecutor:
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(levels, settings))


def _shutdown() -> None:
    global _pool, _pool_size, _pool_jobs
    if _pool is not None:
        _pool.shutdown(wait=True)
    _pool, _pool_size, _pool_jobs = None, 0, 0


def shutdown() -> None:
    """Stop the worker processes (they also stop with this process)."""
    with _pool_lock:
        _shutdown()


def terminate() -> None:
    """Stop the worker processes now, their jobs unfinished (the run was interrupted). Neither waits for the
    jobs nor takes the pool's lock, which a batch thread may hold while it waits for a job."""
    pool = _pool
    if pool is None:
        return
    processes = list((pool._processes or {}).values())  # shutdown forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _start_worker(levels: dict[str, int], settings: Settings) -> None:
    """In each new worker: the parent's log levels, one thread for the models (one worker per CPU), and the
    stages' modules imported, so the first job does not wait for them (models load when first needed). Ctrl-C
    in a terminal reaches every process of the command: the parent alone handles it, and stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    os.environ["OMP_NUM_THREADS"] = "1"
    # spaCy's thinc imports torch whenever it is installed (the train extra; ~180 MB a process): never needed here.
    sys.modules["torch"] = None  # type: ignore[assignment]
    # The pid of the process that started this one, not os.getppid(): a parent that died while this one was
    # starting would otherwise leave it watching init, for good.
    creator = multiprocessing.parent_process()
    exit_with_parent(creator.pid if creator is not None and creator.pid is not None else os.getppid())
    import broadsheet.tasks.enrich
    import broadsheet.tasks.extract  # noqa: F401
