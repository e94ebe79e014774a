"""The two warehouse backends behind one connection: an embedded DuckDB file, or DuckLake.

DuckDB (the default) keeps everything in ``warehouse.path``; one process writes at a time. DuckLake
keeps its catalog in PostgreSQL (``warehouse.catalog``, schema ``warehouse.catalog_schema``) and
its data as Parquet files under ``warehouse.data_path``, so flow runs on several workers can write
at once. A DuckLake connection is an in-memory DuckDB with the lake attached as ``broadsheet_lake``
and made the default database, so the same SQL, tables and views work on both.

DuckLake has no primary keys, unique constraints or sequences. :func:`ducklake_ddl` drops them from
the migrations (the same files serve both backends); loads insert with anti-joins on both backends
(the article tables have no keys on DuckDB either), and every write that must not race (a batch
load, bookkeeping upserts) runs in :func:`in_turn`: it updates the one row of ``writer_turns``, so
two concurrent writers conflict at commit and the loser retries on a fresh snapshot that holds the
winner's rows.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.config.retry import retry_transient
from broadsheet.config.settings import WarehouseSettings

LAKE = "broadsheet_lake"
T = TypeVar("T")

_SEQUENCE = re.compile(r"create\s+sequence\s+\w+\s*;", re.IGNORECASE)
_NEXTVAL = re.compile(r"\s+default\s+nextval\('\w+'\)", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*primary\s+key\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+primary\s+key\b", re.IGNORECASE)


def ducklake_ddl(sql: str) -> str:
    """``sql`` without what DuckLake cannot hold: sequences, their defaults, and primary keys."""
    for pattern in (_SEQUENCE, _NEXTVAL, _TABLE_KEY, _COLUMN_KEY):
        sql = pattern.sub("", sql)
    return sql


def is_ducklake(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute("select current_database()").fetchone()
    return bool(row and row[0] == LAKE)


def extension_file(name: str) -> Path:
    """The ``.duckdb_extension`` file of the pinned ``duckdb-extension-<name>`` wheel, ready to LOAD.

    DuckDB derives an extension's entry point from its file name, and the postgres wheel ships
    ``postgres.duckdb_extension`` for the extension called ``postgres_scanner``; such files are
    linked under their real name in a per-user temporary folder (the signed bytes are unchanged).
    """
    import importlib

    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as exc:
        raise WarehouseError(f"DuckDB extension {name!r} is not installed (duckdb-extension-{name})") from exc
    files = list(Path(package.__path__[0]).glob(f"extensions/v*/{name}.duckdb_extension"))
    if not files:
        raise WarehouseError(f"duckdb-extension-{name} holds no {name}.duckdb_extension file")
    real_name = {"postgres": "postgres_scanner"}.get(name, name)
    if real_name == name:
        return files[0]
    folder = Path(tempfile.gettempdir()) / f"broadsheet-extensions-{_uid()}" / files[0].parent.name
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / f"{real_name}.duckdb_extension"
    if not link.exists():
        partial = folder / f".{real_name}.{time.monotonic_ns()}"
        partial.symlink_to(files[0])
        partial.replace(link)  # atomic: concurrent processes never see a half-made link
    return link


def load_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension from its pinned ``duckdb-extension-<name>`` wheel."""
    conn.execute(f"load '{extension_file(name).as_posix()}'")


def _uid() -> str:
    import os

    return str(os.getuid()) if hasattr(os, "getuid") else "user"


def attach_ducklake(settings: WarehouseSettings, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the DuckLake warehouse attached as the default database."""
    conn = duckdb.connect()
    try:
        load_extension(conn, "postgres")
        load_extension(conn, "ducklake")
        if settings.data_path.startswith(("s3://", "gs://", "http://", "https://")):
            load_extension(conn, "httpfs")
        else:
            Path(settings.data_path).mkdir(parents=True, exist_ok=True)
        conn.execute(attach_sql(settings, LAKE, read_only=read_only))
        conn.execute(f"use {LAKE}")
    except duckdb.Error as exc:
        conn.close()
        raise WarehouseError(
            f"cannot open the DuckLake warehouse (catalog {settings.catalog!r}, schema "
            f"{settings.catalog_schema!r}): {exc}; is PostgreSQL running and warehouse.catalog right?",
            code="unreachable", transient=True) from exc
    return conn


def attach_sql(settings: WarehouseSettings, alias: str, *, read_only: bool) -> str:
    """The ATTACH statement of the warehouse under ``alias`` (DuckLake, or the DuckDB file)."""
    # ATTACH takes no bound parameters: the settings' patterns forbid quotes in the DuckLake values,
    # and a file path has its quotes doubled.
    suffix = " (read_only)" if read_only else ""
    if settings.backend == "duckdb":
        return f"attach '{str(settings.path).replace(chr(39), chr(39) * 2)}' as {alias}{suffix}"
    options = f"data_path '{settings.data_path}', metadata_schema '{settings.catalog_schema}'"
    return (f"attach 'ducklake:postgres:{settings.catalog}' as {alias} "
            f"({options}{', read_only' if read_only else ''})")


def in_turn(conn: duckdb.DuckDBPyConnection, action: Callable[[duckdb.DuckDBPyConnection], T],
            wait_seconds: float = 60.0) -> T:
    """Run ``action`` in one transaction that, on DuckLake, takes the writers' turn; retry conflicts.

    On DuckDB the file lock already keeps writers apart, so this is a plain transaction.
    """
    lake = is_ducklake(conn)

    def once() -> T:
        conn.execute("begin transaction")
        try:
            if lake:
                conn.execute("update writer_turns set turn = turn + 1")
            result = action(conn)
            conn.execute("commit")
            return result
        except duckdb.TransactionException as exc:
            _rollback(conn)
            raise WarehouseError(f"a concurrent write kept conflicting: {exc}", code="conflict",
                                 transient=True) from exc
        except BaseException:
            _rollback(conn)
            raise

    # Only DuckLake's commit conflicts are retried here; on DuckDB the caller decides (the error is transient).
    return retry_transient(once, wait_seconds, delay=0.05, max_delay=1.0,
                           when=lambda exc: lake and exc.code == "conflict")


def move_rows(conn: duckdb.DuckDBPyConnection, table: str, target: str, condition: str,
              parameters: list | None = None) -> None:
    """Delete the rows of ``table`` that meet ``condition`` and append them to the temp table ``target``.

    A load rewrites a few rows of large tables this way: on DuckDB a delete returns its rows by fetching
    only them, where a select filtered by a join decodes every row of the columns it returns. DuckLake
    cannot return deleted rows yet, so there they are selected first. Names and conditions are constants
    of the callers, never data.
    """
    if is_ducklake(conn):
        conn.execute(f"insert into {target} select * from {table} where {condition}", parameters or [])
        conn.execute(f"delete from {table} where {condition}", parameters or [])
    else:
        conn.sql(f"delete from {table} where {condition} returning *", params=parameters or []).insert_into(target)


def copy_rows(conn: duckdb.DuckDBPyConnection, table: str, target: str, condition: str,
              parameters: list | None = None) -> None:
    """Append to the empty temp table ``target`` the rows of ``table`` that meet ``condition``.

    On DuckDB the rows are moved out (:func:`move_rows`, which fetches only them) and put back unchanged:
    DuckDB has no other way to read a few rows of a large table without decoding every row of the
    columns it returns (a select filtered by a join does), bar an index, which every load would reload
    and rewrite whole (benchmarks/RESULTS.md). DuckLake selects them.
    """
    if is_ducklake(conn):
        conn.execute(f"insert into {target} select * from {table} where {condition}", parameters or [])
        return
    move_rows(conn, table, target, condition, parameters)
    conn.execute(f"insert into {table} select * from {target}")


def _rollback(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed commit has already ended the transaction
        conn.execute("rollback")
