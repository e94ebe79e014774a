"""Staged batches that cannot be loaded: moved aside, recorded, and never in the way of the others.

A staged folder whose manifest is unreadable or whose rows DuckDB refuses (malformed JSON, wrong
types, a broken constraint: a disk that lied, a hand edit) would stop every later load if it stayed
in the queue. :func:`quarantine_batch` moves it to ``<staging>/.quarantine/`` (which is not a
batch, so the queue goes on), and records a ``load``-stage rejection with code ``corrupt_stage``
that says where it is and what to do. The rejection carries the batch's run id, so that run's feed
and sitemap fetches stop counting as "unchanged since the last run" and the next run reads its
sources again (see ``queries/latest_validators.sql``): the documents of the bad batch are not lost.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson

from broadsheet.config.errors import WarehouseError
from broadsheet.warehouse.sql import query

QUARANTINE = ".quarantine"
MANIFEST = "manifest.json"
UNKNOWN_RUN = "unknown"


def quarantine_dir(folder: Path) -> Path:
    """Where the unloadable batches of the staging ``folder`` are kept for inspection."""
    return folder / QUARANTINE


def batch_run_id(path: Path) -> str:
    """The run that staged ``path``: from its manifest, else from a row of any of its tables."""
    for file in [path / MANIFEST, *sorted(path.glob("*.jsonl"))]:
        try:
            with file.open("rb") as handle:
                row = orjson.loads(handle.readline())
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(row, dict) and isinstance(row.get("run_id"), str):
            return row["run_id"]
    return UNKNOWN_RUN


def quarantine_batch(conn: duckdb.DuckDBPyConnection, path: Path, error: WarehouseError) -> Path:
    """Move the staged batch at ``path`` aside and record why; returns where it now lies."""
    target_dir = quarantine_dir(path.parent)
    target = target_dir / path.name
    run_id = batch_run_id(path)
    try:
        target_dir.mkdir(exist_ok=True)
        os.replace(path, target)
    except OSError as exc:
        raise WarehouseError(f"staged batch {path} cannot be loaded ({error.message}) nor moved aside: "
                             f"{exc.strerror or exc}; move or delete it by hand", code="corrupt_stage") from exc
    message = (f"staged batch {path.name} cannot be loaded ({error.message}); it was moved to {target}. "
               "Its sources are read again by the next run; inspect the folder, then delete it "
               f"(or repair it and move it back into {path.parent} to load it)")
    conn.execute(query("insert_quarantine_rejection"), [run_id, str(target), message[:4000], datetime.now(UTC)])
    return target
