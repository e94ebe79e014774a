"""The task runner a flow runs its tasks with, as ``pipeline.task_runner`` chooses.

``thread`` is Prefect's default: every task in the flow's own process. ``dask`` hands tasks to a Dask
cluster through prefect-dask: the scheduler at ``pipeline.dask_address``, or a local cluster of
``pipeline.dask_workers`` processes started for the run. The ingest flow then splits each batch's
enrichment (the costly stage: spaCy and the embedding model) over the workers; fetching and loading
stay in the flow's process (loading must: it holds the warehouse's write turn).
"""

from __future__ import annotations

from typing import Any

from broadsheet.config.settings import PipelineSettings


def task_runner_for(settings: PipelineSettings) -> Any | None:
    """A DaskTaskRunner for ``dask``; None keeps the flow's default runner."""
    if settings.task_runner != "dask":
        return None
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.dask_workers, "threads_per_worker": 1,
                                         "processes": True, "dashboard_address": None})


def with_task_runner(flow: Any, settings: PipelineSettings) -> Any:
    """``flow`` set to run its tasks as ``settings`` choose."""
    runner = task_runner_for(settings)
    return flow if runner is None else flow.with_options(task_runner=runner)
