"""``broadsheet export DIR``: the warehouse as Parquet files other tools read (Spark, pandas, Polars).

Article-level tables are written partitioned by the article's date (Hive style:
``articles/article_date=2026-03-03/data_0.parquet``), so a reader can prune by day; the rest are
one file each. Every article version is exported with ``is_latest``, so the reader chooses. An export
overwrites what an earlier export left in the same folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.sql import literal, query

# The exported tables, each read by ``queries/export_<name>.sql``: those partitioned by article_date,
# and those written whole.
PARTITIONED = ("articles", "mentions", "article_entities", "article_topics", "article_subtopics", "keyphrases",
               "embeddings")
WHOLE = ("entities", "topics", "sources", "duplicate_clusters", "runs")


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    rows: dict[str, int]


def export_parquet(conn: duckdb.DuckDBPyConnection, folder: Path) -> ExportResult:
    """Write every table under ``folder`` as Parquet; returns the rows written per table."""
    rows: dict[str, int] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in PARTITIONED:
            sql = query(f"export_{name}")
            target = folder / name
            shutil.rmtree(target, ignore_errors=True)
            rows[name] = _count(conn, sql)
            conn.execute(f"copy ({sql}) to {literal(target)} "
                         "(format parquet, partition_by (article_date), overwrite_or_ignore)")
        for name in WHOLE:
            sql = query(f"export_{name}")
            rows[name] = _count(conn, sql)
            conn.execute(f"copy ({sql}) to {literal(folder / f'{name}.parquet')} (format parquet)")
    except duckdb.Error as exc:
        raise WarehouseError(f"export to {folder} failed: {exc}", code="export") from exc
    except OSError as exc:
        raise WarehouseError(f"cannot write the export to {folder}: {exc}", code="export") from exc
    return ExportResult(folder, rows)


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(f"select count(*) from ({sql})").fetchone()
    return int(row[0]) if row else 0
