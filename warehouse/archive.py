"""The page archive: the raw pages of a DuckDB warehouse, kept beside it as one Parquet file per load.

A page's compressed body is a blob of tens of kilobytes. Held in the ``pages`` table of a DuckDB file,
every checkpoint would rewrite the bodies appended since the table's last 2,048-row boundary, at a cost
in memory that grows with them (``benchmarks/RESULTS.md``). So a load on DuckDB writes the bodies of its new pages to
``<warehouse>.pages/<batch id>.parquet``, in the load's transaction (a failed load deletes its file, a
retried one rewrites it), and leaves ``pages.content_gzip`` null. Pages loaded before the archive keep
their body in the table; the view ``page_bodies`` reads both, so SQL finds every body in one place.

DuckLake writes each commit to Parquet files of its own, so it keeps bodies in ``pages``; there
``page_bodies`` reads the table alone (``views/page_bodies.sql``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.backend import is_ducklake
from broadsheet.warehouse.sql import literal, view

# A file of no rows with the archive's columns: a view over the folder needs one file to bind to.
_EMPTY = "empty.parquet"


def archive_dir(warehouse_path: Path) -> Path:
    """Where the raw pages of the DuckDB warehouse at ``warehouse_path`` are kept."""
    return warehouse_path.with_name(warehouse_path.name + ".pages")


def connection_archive(conn: duckdb.DuckDBPyConnection) -> Path | None:
    """The page archive of the warehouse ``conn`` writes to; None where bodies stay in ``pages``."""
    if is_ducklake(conn):
        return None
    row = conn.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    return archive_dir(Path(row[0])).resolve() if row and row[0] else None


def batch_file(folder: Path, batch_id: str) -> Path:
    return folder / f"{batch_id}.parquet"


def archive_new_pages(conn: duckdb.DuckDBPyConnection, fresh_pages: str, target: Path) -> int:
    """Write the bodies of the pages in the temp table ``fresh_pages`` (those not yet in ``pages``) to
    ``target``; returns how many."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot write to the page archive {target.parent}: {exc.strerror or exc}",
                             code="load", transient=True) from exc
    sql = (f"copy (select page_id, content_gzip from {fresh_pages}) to {literal(target)} "
           "(format parquet, compression uncompressed)")  # gzip bodies: compressing them again gains nothing
    row = conn.execute(sql).fetchone()
    written = int(row[0]) if row else 0
    if not written:
        target.unlink(missing_ok=True)
    return written


def create_page_view(conn: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """(Re)create ``page_bodies`` over the bodies in ``pages`` and those in the archive ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        empty = folder / _EMPTY
        if not empty.exists():
            partial = folder / f".{_EMPTY}.partial"
            conn.execute(f"copy (select null::varchar as page_id, null::blob as content_gzip limit 0) "
                         f"to {literal(partial)} (format parquet)")
            partial.replace(empty)
    except (OSError, duckdb.Error) as exc:
        raise WarehouseError(f"cannot prepare the page archive {folder}: {exc}", code="io") from exc
    # The view of views/page_bodies.sql (bodies in ``pages``) and, after it, the archived bodies.
    conn.execute(view("page_bodies").rstrip().rstrip(";")
                 + f"\nunion all select page_id, content_gzip from read_parquet({literal(folder / '*.parquet')})")


def archive_files(folder: Path) -> list[Path]:
    """The Parquet files of the archive ``folder`` (none if it is missing)."""
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def create_reader_page_view(conn: duckdb.DuckDBPyConnection, folder: Path, files: list[Path]) -> None:
    """A temporary ``page_bodies`` for a read-only connection, over the archive beside the file it opened
    (the stored view names the folder of whoever last wrote: a copy of the warehouse would read the
    original's bodies). A missing archive is an error only for a query that needs its bodies."""
    archived = (f"select page_id, content_gzip from read_parquet([{', '.join(literal(f) for f in files)}])"
                if files else
                "select page_id, error(" + literal(Path(f"the page archive {folder} is missing: bodies of pages "
                                                         "loaded since the archive began are not there; copy or "
                                                         "move the warehouse together with its .pages folder"))
                + ")::blob from pages where content_gzip is null")
    conn.execute("create or replace temp view page_bodies as "
                 + view("page_bodies").split(" as\n", 1)[1].rstrip().rstrip(";") + "\nunion all " + archived)
