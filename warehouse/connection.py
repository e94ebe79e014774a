"""Opening the DuckDB warehouse: read-write (migrated to the latest schema) or read-only.

DuckDB allows one writing process per file. A writer that finds the file locked gets a transient
:class:`WarehouseError` (code ``locked``) so the caller can wait and retry; readers open
read-only and never migrate. Extensions load from their pinned wheels, never from the network.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.migrate import create_views, migrate


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse at ``path``; a writer creates and migrates it as needed."""
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `broadsheet ingest` first or pass --db",
                             code="missing")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        locked = "lock" in str(exc).lower()
        raise WarehouseError(
            f"cannot open warehouse {path}: {'another process is writing to it' if locked else exc}",
            code="locked" if locked else "io", transient=locked,
        ) from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path}: {exc}", code="corrupt") from exc
    conn.execute("set timezone = 'UTC'")
    if not read_only:
        try:
            migrate(conn)
            create_views(conn)
            # DuckDB 1.5 cannot replay some DDL from its WAL (an ALTER ... ADD COLUMN with a default): a
            # process killed before the next checkpoint would leave a file that no longer opens.
            conn.execute("checkpoint")
        except BaseException:
            conn.close()
            raise
    return conn


def load_extension(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension from its pinned ``duckdb-extension-<name>`` wheel."""
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as exc:
        raise WarehouseError(f"DuckDB extension {name!r} is not installed (duckdb-extension-{name})") from exc
    files = list(Path(package.__path__[0]).glob(f"extensions/v*/{name}.duckdb_extension"))
    if not files:
        raise WarehouseError(f"duckdb-extension-{name} holds no {name}.duckdb_extension file")
    conn.execute(f"load '{files[0].as_posix()}'")
