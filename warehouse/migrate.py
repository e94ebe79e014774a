"""Schema migrations: numbered ``migrations/NNNN_verb_object.sql`` files, applied in order.

Each migration runs in its own transaction together with the row that records it in
``schema_migrations``, so a crash leaves the schema at one version or the next, never between.
Migrations are append-only: change the schema by adding a file, never by editing one.
Views hold no data, so they are simply re-created from ``views/<view_name>.sql`` after migrating.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.sql import query

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VIEWS_DIR = Path(__file__).resolve().parent / "views"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise WarehouseError(f"migration file {path.name} is not named NNNN_verb_object.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"two migrations share a number in {folder}")
    return found


def _same(sql: str) -> str:
    return sql


def applied_versions(conn: duckdb.DuckDBPyConnection, translate: Callable[[str], str] = _same) -> set[int]:
    conn.execute(translate(query("create_schema_migrations")))
    return {row[0] for row in conn.execute("select version from schema_migrations").fetchall()}


def migrate(conn: duckdb.DuckDBPyConnection, folder: Path = MIGRATIONS_DIR,
            translate: Callable[[str], str] = _same) -> list[Migration]:
    """Apply every migration not yet recorded; returns those applied now.

    ``translate`` adapts each file's SQL to the backend (DuckLake holds no keys or sequences).
    """
    done = applied_versions(conn, translate)
    applied = []
    for migration in available_migrations(folder):
        if migration.version in done:
            continue
        conn.execute("begin transaction")
        try:
            conn.execute(translate(migration.path.read_text(encoding="utf-8")))
            conn.execute("insert into schema_migrations values (?, ?, ?)",
                         [migration.version, migration.name, datetime.now(UTC)])
            conn.execute("commit")
        except duckdb.Error as exc:
            raise rolled_back(conn, f"migration {migration.path.name}", exc) from exc
        applied.append(migration)
    return applied


def create_views(conn: duckdb.DuckDBPyConnection, folder: Path = VIEWS_DIR, *,
                 only_if_changed: bool = False) -> list[str]:
    """Create or replace every view from its file, in one transaction; returns the view names.

    With ``only_if_changed`` (DuckLake) nothing is written when the files' hash is the one recorded
    in ``view_sets`` by the last creation.
    """
    files = sorted(folder.glob("*.sql"))
    digest = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()
    if only_if_changed and conn.execute("select 1 from view_sets where views_hash = ?", [digest]).fetchone():
        return []
    names = []
    conn.execute("begin transaction")
    try:
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
            names.append(path.stem)
        if only_if_changed:
            conn.execute("insert into view_sets values (?, ?)", [digest, datetime.now(UTC)])
        conn.execute("commit")
    except duckdb.Error as exc:
        raise rolled_back(conn, f"view {path.name}", exc) from exc
    return names


def rolled_back(conn: duckdb.DuckDBPyConnection, what: str, error: duckdb.Error) -> WarehouseError:
    """The error of ``what`` after its transaction is rolled back; a full disk is transient.

    A commit that failed (the disk full) has already ended the transaction: "cannot rollback" then is no
    news and must not hide the real error."""
    with contextlib.suppress(duckdb.Error):
        conn.execute("rollback")
    if "no space left" in str(error).lower():
        return WarehouseError(f"{what} failed: the disk is full ({error}); free some space and run again",
                              code="disk_full", transient=True)
    return WarehouseError(f"{what} failed: {error}")
