"""Search: BM25 ranking sanity, filters, semantic search over stored embeddings, and Parquet export."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import DAY, FLOOD, WIRE, article, batch_of, duckdb_target, load

from broadsheet.config.errors import WarehouseError
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.connection import connect
from broadsheet.warehouse.export import export_parquet
from broadsheet.warehouse.search import SearchFilters, open_index, refresh_index, search_semantic, search_text

MARKETS = ("Stock markets rallied on Wednesday after the central bank signalled a pause. Shares of banks and "
           "builders led the gains, and the currency rose against the dollar for a third day in a row.")


@pytest.fixture
def warehouse(tmp_path: Path) -> WarehouseSettings:
    target = duckdb_target(tmp_path)
    rates = article("https://wire.example/rates", WIRE, source="wire", title="Central bank raises rates")
    flood = article("https://paper.example/flood", FLOOD, source="paper", title="Harbour flooded",
                    published=DAY + timedelta(days=2))
    markets = article("https://paper.example/markets", MARKETS, source="paper", title="Markets rally")
    vectors = {rates.article_id: (1.0, 0.0, 0.0), flood.article_id: (0.0, 1.0, 0.0),
               markets.article_id: (0.8, 0.0, 0.6)}
    load(target, batch_of(rates, flood, markets, vectors=vectors))
    return target


def _titles(hits: list) -> list[str]:
    return [h.title for h in hits]


def test_bm25_ranks_the_article_about_the_query_first(warehouse: WarehouseSettings) -> None:
    conn = open_index(warehouse)
    try:
        assert refresh_index(conn) is True
        assert refresh_index(conn) is False  # nothing changed since
        assert _titles(search_text(conn, "harbour flood river"))[0] == "Harbour flooded"
        hits = search_text(conn, "central bank interest rates")
        # "banks" of the river stems to "bank" too, but one word of four ranks it last
        assert _titles(hits) == ["Central bank raises rates", "Markets rally", "Harbour flooded"]
        assert hits[0].score > hits[1].score > hits[2].score > 0
        assert search_text(conn, "volcano") == []
    finally:
        conn.close()


def test_search_filters(warehouse: WarehouseSettings) -> None:
    conn = open_index(warehouse)
    try:
        refresh_index(conn)
        assert _titles(search_text(conn, "dollar", SearchFilters(source="paper"))) == ["Markets rally"]
        assert search_text(conn, "dollar", SearchFilters(source="wire")) == []
        assert _titles(search_text(conn, "river", SearchFilters(since=date(2026, 3, 4)))) == ["Harbour flooded"]
        assert search_text(conn, "river", SearchFilters(until=date(2026, 3, 4))) == []
        assert len(search_text(conn, "bank", SearchFilters(entity="maria costa"))) == 3
        assert search_text(conn, "bank", SearchFilters(entity="nobody")) == []
        assert search_text(conn, "bank", SearchFilters(topic="sport")) == []
        assert len(search_text(conn, "bank", SearchFilters(topic="economy"))) == 3
    finally:
        conn.close()


def test_the_index_follows_new_articles(warehouse: WarehouseSettings) -> None:
    conn = open_index(warehouse)
    refresh_index(conn)
    conn.close()
    load(warehouse, batch_of(article("https://paper.example/volcano", "A volcano erupted near the coast. " * 5,
                                     title="Volcano erupts")), run_id="run2")
    conn = open_index(warehouse)
    try:
        assert refresh_index(conn) is True
        assert _titles(search_text(conn, "volcano")) == ["Volcano erupts"]
    finally:
        conn.close()


def test_semantic_search_ranks_by_stored_embeddings(warehouse: WarehouseSettings) -> None:
    conn = open_index(warehouse)
    try:
        refresh_index(conn)
        hits = search_semantic(conn, [1.0, 0.0, 0.0], "test-model")
        assert _titles(hits) == ["Central bank raises rates", "Markets rally", "Harbour flooded"]
        assert [round(h.score, 2) for h in hits] == [1.0, 0.8, 0.0]
        assert search_semantic(conn, [1.0, 0.0, 0.0], "other-model") == []
        assert _titles(search_semantic(conn, [1.0, 0.0, 0.0], "test-model", SearchFilters(source="paper"),
                                       limit=1)) == ["Markets rally"]
    finally:
        conn.close()


def test_search_without_a_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="run `broadsheet ingest` first"):
        open_index(duckdb_target(tmp_path))


def test_export_writes_parquet_partitioned_by_date(warehouse: WarehouseSettings, tmp_path: Path) -> None:
    conn = connect(warehouse, read_only=True, writes_to=tmp_path / "export")
    try:
        result = export_parquet(conn, tmp_path / "export")
    finally:
        conn.close()
    assert result.rows["articles"] == 3 and result.rows["embeddings"] == 3
    days = sorted(p.name for p in (tmp_path / "export" / "articles").iterdir())
    assert days == ["article_date=2026-03-03", "article_date=2026-03-05"]
    reader = duckdb.connect()
    titles = reader.execute("select title, article_date from read_parquet(?, hive_partitioning = true) "
                            "order by title", [str(tmp_path / "export" / "articles" / "*" / "*.parquet")]).fetchall()
    assert titles == [("Central bank raises rates", date(2026, 3, 3)), ("Harbour flooded", date(2026, 3, 5)),
                      ("Markets rally", date(2026, 3, 3))]
    clusters = reader.execute("select count(*) from read_parquet(?)",
                              [str(tmp_path / "export" / "duplicate_clusters.parquet")]).fetchone()
    assert clusters == (3,)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from broadsheet.flows.cli import main

    monkeypatch.setattr("sys.argv", ["broadsheet", *args])
    with pytest.raises(SystemExit) as caught:
        main()
    captured = capsys.readouterr()
    return int(caught.value.code or 0), captured.out, captured.err


def test_search_and_export_commands(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                    warehouse: WarehouseSettings, tmp_path: Path) -> None:
    db = str(warehouse.path)
    code, out, _ = _cli(monkeypatch, capsys, "search", "harbour river", "--db", db, "--format", "json")
    assert code == 0
    assert [hit["title"] for hit in json.loads(out)["rows"]] == ["Harbour flooded"]
    code, out, _ = _cli(monkeypatch, capsys, "search", "bank", "--db", db, "--source", "paper", "--until",
                        "2026-03-03", "--topic", "economy", "--entity", "Maria Costa", "-f", "csv")
    assert code == 0 and out.splitlines()[1].split(",")[3] == "Markets rally" and len(out.splitlines()) == 2
    code, _, err = _cli(monkeypatch, capsys, "search", "bank", "--db", db, "--since", "March 3")
    assert code == 2 and "since" in err
    code, out, _ = _cli(monkeypatch, capsys, "export", str(tmp_path / "out"), "--db", db, "--json")
    assert code == 0 and json.loads(out)["rows"]["articles"] == 3
    code, _, err = _cli(monkeypatch, capsys, "search", "bank", "--db", str(tmp_path / "none.duckdb"))
    assert code == 3 and "broadsheet ingest" in err.replace("\n", " ")


@pytest.mark.parametrize("name", ["warehouse.duckdb", "search_index.duckdb", "news"])
def test_search_works_whatever_the_warehouse_file_is_called(tmp_path: Path, name: str) -> None:
    # the index file (<name>.search) once opened as a database named like the warehouse's alias ("warehouse")
    target = WarehouseSettings(path=tmp_path / name)
    load(target, batch_of(article("https://paper.example/flood", FLOOD, source="paper", title="Harbour flooded")))
    conn = open_index(target)
    try:
        refresh_index(conn)
        assert _titles(search_text(conn, "harbour flood")) == ["Harbour flooded"]
    finally:
        conn.close()
