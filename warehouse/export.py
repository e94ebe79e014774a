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

# Per exported table: the query (names from this module, never from input) and whether it is
# partitioned by article_date.
PARTITIONED = {
    "articles": "select * exclude (url), url from article_versions",
    "mentions": "select mentions.*, v.article_date from mentions join article_versions v using (article_id)",
    "article_entities": "select t.*, v.article_date from article_entities t join article_versions v using (article_id)",
    "article_topics": "select t.*, v.article_date from article_topics t join article_versions v using (article_id)",
    "article_subtopics": "select t.*, v.article_date from article_subtopics t "
                         "join article_versions v using (article_id)",
    "keyphrases": "select t.*, v.article_date from keyphrases t join article_versions v using (article_id)",
    "embeddings": "select t.*, v.article_date from embeddings t join article_versions v using (article_id)",
}
WHOLE = {
    "entities": "select * from entities",
    "topics": "select * from topics",
    "sources": "select * from sources",
    "duplicate_clusters": "select * from duplicate_clusters",
    "runs": "select * from runs",
}


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    rows: dict[str, int]


def _literal(path: Path) -> str:
    # COPY takes no bound parameters for its target: quote the path as a SQL string literal.
    return "'" + str(path).replace("'", "''") + "'"


def export_parquet(conn: duckdb.DuckDBPyConnection, folder: Path) -> ExportResult:
    """Write every table under ``folder`` as Parquet; returns the rows written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    try:
        for name, sql in PARTITIONED.items():
            target = folder / name
            shutil.rmtree(target, ignore_errors=True)
            rows[name] = _count(conn, sql)
            conn.execute(f"copy ({sql}) to {_literal(target)} "
                         "(format parquet, partition_by (article_date), overwrite_or_ignore)")
        for name, sql in WHOLE.items():
            rows[name] = _count(conn, sql)
            conn.execute(f"copy ({sql}) to {_literal(folder / f'{name}.parquet')} (format parquet)")
    except duckdb.Error as exc:
        raise WarehouseError(f"export to {folder} failed: {exc}", code="export") from exc
    except OSError as exc:
        raise WarehouseError(f"cannot write the export to {folder}: {exc}", code="export") from exc
    return ExportResult(folder, rows)


def _count(conn: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = conn.execute(f"select count(*) from ({sql})").fetchone()
    return int(row[0]) if row else 0
