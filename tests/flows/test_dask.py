"""Parallel enrichment on a Dask cluster (prefect-dask): the same rows as enrichment in the flow's process."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from broadsheet.config.settings import Settings
from broadsheet.config.sources import source_from_argument
from broadsheet.flows.ingest import ingest_flow
from broadsheet.flows.runners import task_runner_for, with_task_runner

pytestmark = pytest.mark.usefixtures("prefect_harness")

STORIES = {
    "tram": "Lisbon's city council approved a new tram line on Tuesday. Mayor Carlos Moedas said the line would "
            "link the airport with the old town by 2028, and the transport agency Carris will run it.",
    "vote": "Voters in Portugal elect a new parliament on Sunday. Prime Minister Luis Montenegro hopes his party "
            "will win a majority, while the Socialist Party campaigned on housing and wages.",
    "match": "Benfica beat Porto two goals to one in Lisbon on Saturday, and coach Bruno Lage said the title race "
             "was open again with six games left in the season.",
    "chips": "The chipmaker ASML reported record quarterly profit in Veldhoven on Wednesday as demand from Taiwan "
             "and South Korea grew, and its shares rose five percent in Amsterdam.",
}


def _rows(path: Path) -> dict[str, list[tuple]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "entities": conn.execute("select a.title, e.name from article_entities x join articles a "
                                     "using (article_id) join entities e using (entity_id) order by 1, 2").fetchall(),
            "topics": conn.execute("select a.title, t.topic_id, t.rank from article_topics t join articles a "
                                   "using (article_id) order by 1, 3").fetchall(),
            "embeddings": conn.execute("select count(*), min(dimensions), max(dimensions) from embeddings").fetchall(),
        }
    finally:
        conn.close()


def test_the_default_runner_is_prefects(settings: Settings) -> None:
    assert task_runner_for(settings.pipeline) is None
    assert with_task_runner(ingest_flow, settings.pipeline) is ingest_flow


def test_dask_enrichment_gives_the_same_rows(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    for name, text in STORIES.items():
        (folder / f"{name}.txt").write_text(f"{name.title()}\n{text}\n", encoding="utf-8")
    thread = settings.model_copy(update={"warehouse": settings.warehouse.model_copy(
        update={"path": tmp_path / "thread.duckdb"})})
    ingest_flow([source_from_argument(str(folder))], thread)
    # Workers in this process (a cluster of worker processes would each need the test's Prefect server
    # database, which the harness keeps to itself); the flow reaches it by its address like any cluster.
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dask = settings.model_copy(update={
            "warehouse": settings.warehouse.model_copy(update={"path": tmp_path / "dask.duckdb"}),
            "pipeline": settings.pipeline.model_copy(update={"task_runner": "dask", "dask_workers": 2,
                                                             "dask_address": cluster.scheduler_address})})
        summary = with_task_runner(ingest_flow, dask.pipeline)([source_from_argument(str(folder))], dask)
    assert (summary.counts.enriched, summary.counts.loaded) == (4, 4)
    expected = _rows(tmp_path / "thread.duckdb")
    assert expected["embeddings"] == [(4, 384, 384)]
    assert _rows(tmp_path / "dask.duckdb") == expected
