"""Opening the warehouse: read-write (migrated to the latest schema) or read-only, on either backend.

A target is the :class:`WarehouseSettings` (which choose DuckDB or DuckLake, see
:mod:`broadsheet.warehouse.backend`) or, for the DuckDB backend, just the file's path. DuckDB allows
one writing process per file: a writer that finds the file locked gets a transient
:class:`WarehouseError` (code ``locked``) so the caller can wait and retry; readers open read-only
and never migrate. Extensions load from their pinned wheels, never from the network.

A read-only connection is sandboxed: it may read the DuckDB file and its page archive (or, on DuckLake,
its data folder) and nothing else (``enable_external_access = false``, the archive's files its
``allowed_paths``, the DuckLake data folder its ``allowed_directories``, the configuration locked), so
SQL typed by a person can neither read other files nor write any (``COPY … TO``, ``ATTACH``,
``read_text``, and a ``SET`` to undo it, all fail); :func:`check_read_only_sql` also refuses statements
other than queries, since DuckDB lets an allowed path be written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

import duckdb

from broadsheet.config.errors import QueryError, WarehouseError
from broadsheet.config.settings import WarehouseSettings
from broadsheet.warehouse.archive import (
    archive_dir,
    archive_files,
    connection_archive,
    create_page_view,
    create_reader_page_view,
)
from broadsheet.warehouse.backend import attach_ducklake, ducklake_ddl
from broadsheet.warehouse.migrate import create_views, migrate

Target: TypeAlias = Path | WarehouseSettings


def local_path(target: Target) -> Path:
    """The DuckDB file of a target (for DuckLake: the local path its staging folder is named after)."""
    return target if isinstance(target, Path) else target.path


def describe(target: Target) -> str:
    """How to name the warehouse to a person."""
    if isinstance(target, WarehouseSettings) and target.backend == "ducklake":
        return f"ducklake:{target.catalog_schema} ({target.catalog}; data in {target.data_path})"
    return str(local_path(target))


def warehouse_exists(target: Target) -> bool:
    """Whether there is a warehouse to read (a DuckLake catalog counts as existing once reachable)."""
    if isinstance(target, WarehouseSettings) and target.backend == "ducklake":
        return True
    return local_path(target).exists()


def connect(target: Target, *, read_only: bool = False, writes_to: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse; a writer creates and migrates it as needed. A reader is sandboxed: it
    reads the warehouse (a DuckDB file and its page archive, or a DuckLake's data folder) and may write
    only under ``writes_to``."""
    writable = [str(writes_to.resolve())] if writes_to is not None else []
    if isinstance(target, WarehouseSettings) and target.backend == "ducklake":
        conn = attach_ducklake(target, read_only=read_only)
        return _sandboxed(conn, [], [target.data_path, *writable]) if read_only else _prepared(conn, ducklake=True)
    path = local_path(target)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `broadsheet ingest` first or pass --db",
                             code="missing")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = _open(path, read_only=read_only)
    return _file_reader(conn, path, writable) if read_only else _prepared(conn, ducklake=False)


def _file_reader(conn: duckdb.DuckDBPyConnection, path: Path, writable: list[str]) -> duckdb.DuckDBPyConnection:
    """``conn`` (read-only, on the DuckDB file ``path``) with its page archive in ``page_bodies``, sandboxed."""
    folder = archive_dir(path.resolve())
    files = archive_files(folder)
    try:
        create_reader_page_view(conn, folder, files)
    except BaseException:
        conn.close()
        raise
    return _sandboxed(conn, [str(f) for f in files], writable)


def _sandboxed(conn: duckdb.DuckDBPyConnection, files: list[str], folders: list[str]) -> duckdb.DuckDBPyConnection:
    """``conn`` with no file access but to ``files`` and under ``folders``, its configuration locked."""
    try:
        if files:
            conn.execute(f"set allowed_paths = {_list(files)}")
        if folders:
            conn.execute(f"set allowed_directories = {_list(folders)}")
        conn.execute("set enable_external_access = false")
        conn.execute("set lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def _list(paths: list[str]) -> str:
    """``paths`` as an SQL list of string literals (SET takes no parameters)."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


# What SQL typed by a person may be: queries (DESCRIBE, SHOW, SUMMARIZE and PRAGMA are SELECTs to DuckDB),
# EXPLAIN, CALL of a table function, and CREATE (only TEMP objects on a read-only connection; PIVOT needs it).
_QUERY_STATEMENTS = {"SELECT", "EXPLAIN", "CALL", "CREATE"}


def check_read_only_sql(conn: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise a QueryError (the user's statement to fix) unless every statement of ``sql`` only reads."""
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}") from exc
    refused = [s.type.name for s in statements if s.type.name not in _QUERY_STATEMENTS]
    if refused:
        raise QueryError(f"query failed: {', '.join(refused)} refused, a query here only reads (to write, "
                         "export or attach, open the warehouse file with duckdb itself)")


@contextlib.contextmanager
def connected(target: Target, *, read_only: bool = False, reader: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for the ``with`` block, closed when it ends: :func:`connect`'s (or, with ``reader``,
    :func:`connect_reader`'s)."""
    conn = connect_reader(target) if reader else connect(target, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def connect_reader(target: Target) -> duckdb.DuckDBPyConnection:
    """A connection for reads that may open while this process is writing through another.

    It neither migrates nor creates views (whoever connected first to write did), so it never waits for
    a load. On DuckDB it opens the file as the writer does (DuckDB shares one database among a process's
    connections with the same configuration, and each reads the last committed state); another process
    writing the file makes it fail with a transient ``locked`` error. On DuckLake it attaches read-only.
    """
    if isinstance(target, WarehouseSettings) and target.backend == "ducklake":
        return attach_ducklake(target, read_only=True)
    return _open(local_path(target))


# DuckDB's words for a file held by another process, and for one that is damaged ("... checksum ... in
# block ...": a plain "lock" test matched "block" and called a corrupt file locked).
_LOCK_CONFLICT = re.compile(r"could not set lock|conflicting lock", re.IGNORECASE)
_CORRUPT = re.compile(r"corrupt|checksum|not a valid DuckDB database", re.IGNORECASE)


def is_lock_conflict(error: BaseException) -> bool:
    """Whether DuckDB's ``error`` says another process holds the file."""
    return bool(_LOCK_CONFLICT.search(str(error)))


def _open(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if is_lock_conflict(exc):
            raise WarehouseError(f"cannot open warehouse {path}: another process is writing to it",
                                 code="locked", transient=True) from exc
        if _CORRUPT.search(str(exc)):
            raise WarehouseError(
                f"the warehouse {path} is corrupt ({exc}): restore it from a backup, or move it aside and run "
                "`broadsheet ingest` again to build a new one", code="corrupt") from exc
        raise WarehouseError(f"cannot open warehouse {path}: {exc}", code="io") from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path}: {exc}", code="corrupt") from exc
    conn.execute("set timezone = 'UTC'")
    return conn


def _prepared(conn: duckdb.DuckDBPyConnection, *, ducklake: bool) -> duckdb.DuckDBPyConnection:
    """Migrate and create the views; on DuckLake only what changed (workers share one catalog)."""
    try:
        if ducklake:
            conn.execute("set timezone = 'UTC'")
            migrate(conn, translate=ducklake_ddl)
            create_views(conn, only_if_changed=True)
        else:
            applied = migrate(conn)
            create_views(conn)
            archive = connection_archive(conn)
            if archive:
                create_page_view(conn, archive)
            if applied:
                # DuckDB 1.5 cannot replay some DDL from its WAL (an ALTER ... ADD COLUMN with a default): a
                # process killed before the next checkpoint would leave a file that no longer opens. Only
                # then, since DuckDB refuses a checkpoint while another connection of this process holds a
                # transaction; if one does, the checkpoint waits for the last connection's close.
                with contextlib.suppress(duckdb.TransactionException):
                    conn.execute("checkpoint")
    except BaseException:
        conn.close()
        raise
    return conn
