"""Loading staged batches: the only way rows enter the warehouse's article tables.

Loading a staged folder (:mod:`broadsheet.warehouse.staging`) is one short transaction that inserts into
every table the rows whose key columns are new (an anti-join: the tables hold no primary keys, see
``KEYS``; the rows inserted stay in temp tables ``fresh_<table>`` for the steps after), puts the new
articles in their story clusters (:mod:`broadsheet.warehouse.duplicates`), rewrites the article facts
and aggregates they change (:mod:`broadsheet.warehouse.versions`, :mod:`broadsheet.warehouse.aggregates`)
and records the batch id in ``loaded_batches``; the folder is deleted after the commit. So a crash at any
point leaves either a staged batch (loaded by the next run) or a loaded one, never half of one, and
loading the same batch or the same articles twice adds nothing. On DuckLake the transaction takes the
writers' turn, so concurrent loads serialise.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson

from broadsheet.config.errors import WarehouseError
from broadsheet.config.records import Rekey
from broadsheet.config.settings import DedupSettings
from broadsheet.warehouse.aggregates import snapshot_mentions, update_aggregates
from broadsheet.warehouse.archive import archive_new_pages, batch_file, connection_archive
from broadsheet.warehouse.backend import in_turn
from broadsheet.warehouse.duplicates import cluster_staged_articles, start_load_clusters
from broadsheet.warehouse.quarantine import quarantine_batch
from broadsheet.warehouse.rekey import rekey_articles, rekey_touches
from broadsheet.warehouse.sql import json_list, query
from broadsheet.warehouse.staging import ENRICHMENT_TABLES, KEYS, MANIFEST, TABLES, staged_batches
from broadsheet.warehouse.versions import record_changed_articles, refresh_article_facts


@dataclass(frozen=True)
class LoadResult:
    batches: int
    articles: int
    pending: int = 0  # staged batches left for a later run (the warehouse was locked)
    quarantined: int = 0  # staged batches that could not be loaded, moved aside (see warehouse/quarantine.py)


def _fresh_sql(table: str, held: list[str] | None = None) -> str:
    """The staged rows of ``table`` whose key is not in the table yet (nor earlier in the file).

    The staged file's path is the statement's first parameter. For a table keyed by article, ``held``
    names the staged articles whose rows the table may already hold (the articles the warehouse held
    before this load, but not those re-enriched now, whose rows were just deleted): only their rows are
    looked up, as a second parameter, and with none nothing is (an article's rows only ever arrive with
    it or with its re-enrichment). Other tables are looked up whole.
    """
    # Table and column names come from TABLES and KEYS above, never from data.
    columns = TABLES[table]
    names = ", ".join(name for name, _ in columns)
    read_types = ", ".join(f"{name}: '{'varchar' if kind == 'blob' else kind}'" for name, kind in columns)
    selected = ", ".join(f"from_base64({name}) as {name}" if kind == "blob" else name for name, kind in columns)
    staged = f"read_json(?, format = 'newline_delimited', columns = {{{read_types}}})"
    keys = KEYS.get(table)
    if keys is None:  # unkeyed (fetches, rejections): every row is new
        return f"select {selected} from {staged}"
    partition = ", ".join(keys)
    fresh = (f"select {names} from (select {selected}, row_number() over (partition by {partition}) as copy_number "
             f"from {staged}) as fresh where copy_number = 1")
    if keys[0] == "article_id" and held is not None:
        if not held:
            return fresh
        restricted = " and ".join(["list_contains(?::json::varchar[], existing.article_id)",
                                   *(f"existing.{key} = fresh.{key}" for key in keys)])
        return f"{fresh} and not exists (select 1 from {table} as existing where {restricted})"
    matches = " and ".join(f"existing.{key} = fresh.{key}" for key in keys)
    return f"{fresh} and not exists (select 1 from {table} as existing where {matches})"


# The fresh rows the article facts and aggregates read after the inserts (an empty table when not staged).
_READ_AFTER = ("articles", "article_entities", "article_topics", "article_subtopics", "mentions")


def _stage_fresh_rows(conn: duckdb.DuckDBPyConnection, table: str, staged: Path, held: list[str] | None) -> None:
    """Put the rows of ``table`` this load inserts in the temp table ``fresh_<table>``: the insert reads them,
    and so do the article facts and aggregates after it."""
    if not staged.exists():
        if table not in _READ_AFTER:
            return
        columns = ", ".join(f"{name} {kind}" for name, kind in TABLES[table])
        conn.execute(f"create or replace temp table fresh_{table} ({columns})")
        return
    conn.execute(f"create or replace temp table fresh_{table} as {_fresh_sql(table, held)}",
                 [str(staged), *([json_list(held)] if held else [])])


# Columns a load computes from a staged row's own values: 64-bit keys that queries join by (migration 0012).
DERIVED = {"entities": {"entity_key": "md5_number_lower(entity_id)"}}


def _insert_sql(table: str, *, left_null: tuple[str, ...] = ()) -> str:
    """Insert the rows of ``fresh_<table>``, with the columns ``left_null`` null."""
    derived = DERIVED.get(table, {})
    names = [name for name, _ in TABLES[table]] + list(derived)
    chosen = ", ".join([*(f"null as {name}" if name in left_null else name for name, _ in TABLES[table]),
                        *derived.values()])
    return f"insert into {table} ({', '.join(names)}) select {chosen} from fresh_{table}"


def load_staged_batch(conn: duckdb.DuckDBPyConnection, path: Path, dedup: DedupSettings | None = None) -> int:
    """Load one staged batch in one transaction; returns how many articles were new."""
    try:
        manifest = orjson.loads((path / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise WarehouseError(f"staged batch {path} has no readable manifest: {exc}", code="corrupt_stage") from exc
    if not isinstance(manifest, dict) or not all(isinstance(manifest.get(k), str) for k in ("batch_id", "run_id")):
        raise WarehouseError(f"staged batch {path} has a manifest without batch_id and run_id", code="corrupt_stage")

    batch_id = manifest["batch_id"]
    archive = connection_archive(conn)
    bodies = batch_file(archive, batch_id) if archive else None
    archived: list[Path] = []

    def load(conn: duckdb.DuckDBPyConnection) -> int:
        if conn.execute(query("batch_is_loaded"), [batch_id]).fetchone():
            return 0
        ids = _staged_ids(conn, path)
        reenriched = manifest.get("reenriched") or []
        rekeyed = [Rekey(**r) for r in manifest.get("rekeyed") or []]
        rekeyed_ids, touched = rekey_touches(conn, rekeyed)
        record_changed_articles(conn, _changed_in_place(ids, reenriched) | rekeyed_ids)
        snapshot_mentions(conn)
        _drop_replaced_enrichments(conn, reenriched)
        rekey_articles(conn, rekeyed, manifest["run_id"])
        _insert_staged(conn, path, ids.held, reenriched, bodies, archived)
        start_load_clusters(conn)
        if (path / "articles.jsonl").exists():
            touched |= set(cluster_staged_articles(conn, path / "articles.jsonl", dedup or DedupSettings()))
        refresh_article_facts(conn, sorted(touched))
        update_aggregates(conn)
        new_articles = len(ids.articles - ids.held)
        conn.execute(query("insert_loaded_batch"),
                     [batch_id, manifest["run_id"], new_articles, datetime.now(UTC)])
        return new_articles

    try:
        return in_turn(conn, load)
    except BaseException as exc:
        for file in archived:  # the bodies of a load that did not commit
            with contextlib.suppress(OSError):
                file.unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error):
            raise _load_error(path, exc) from exc
        raise


# Errors that say the staged rows themselves are bad, not the warehouse: the batch is quarantined.
_CORRUPT_ROWS = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.ConstraintException)


def _load_error(path: Path, exc: duckdb.Error) -> WarehouseError:
    if isinstance(exc, _CORRUPT_ROWS):
        return WarehouseError(f"staged batch {path.name} holds rows the warehouse refuses: {exc}",
                              code="corrupt_stage")
    # An I/O error or a failed commit (a full disk) may pass: the batch stays staged for the next run.
    return WarehouseError(f"loading staged batch {path.name} failed: {exc}", code="load",
                          transient=isinstance(exc, (duckdb.IOException, duckdb.TransactionException)))


def _drop_replaced_enrichments(conn: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """Delete the enrichment rows of re-enriched articles (their new rows follow in the same transaction)."""
    if not article_ids:
        return
    for table in ENRICHMENT_TABLES:  # names from the constant above, never from data
        conn.execute(f"delete from {table} where article_id in (select unnest(?::json::varchar[]))",
                     [json_list(article_ids)])


@dataclass(frozen=True)
class _StagedIds:
    articles: set[str]  # in articles.jsonl
    enriched: set[str]  # in an enrichment file
    held: set[str]  # already in the warehouse


def _staged_ids(conn: duckdb.DuckDBPyConnection, path: Path) -> _StagedIds:
    """The articles named in the staged files, and which of them the warehouse holds already."""
    files = [str(path / f"{table}.jsonl") for table in ("articles", *ENRICHMENT_TABLES)
             if (path / f"{table}.jsonl").exists()]
    rows = conn.execute(query("staged_ids"), [json_list(files)]).fetchall() if files else []
    return _StagedIds({r[0] for r in rows if r[1]}, {r[0] for r in rows if r[2]}, {r[0] for r in rows if r[3]})


def _changed_in_place(ids: _StagedIds, reenriched: list[str]) -> set[str]:
    """Articles whose stored rows this load changes (not only adds): re-enriched, or given enrichment rows
    without being new (re-keyed ones too, see warehouse/rekey.py). Their facts and mention totals are read
    back from the tables; every other article's come from the rows the load inserts."""
    return {*reenriched, *(ids.enriched - (ids.articles - ids.held))}


def _insert_staged(conn: duckdb.DuckDBPyConnection, path: Path, held: set[str], reenriched: list[str],
                   bodies: Path | None, archived: list[Path]) -> None:
    """Insert every staged table's new rows, naming in ``archived`` the page archive file it writes."""
    looked_up = {"articles": sorted(held), **dict.fromkeys(ENRICHMENT_TABLES, sorted(held - set(reenriched)))}
    for table in TABLES:
        staged = path / f"{table}.jsonl"
        _stage_fresh_rows(conn, table, staged, looked_up.get(table))
        if not staged.exists():
            continue
        if table == "pages" and bodies:  # bodies go to the page archive, see warehouse/archive.py
            archived.append(bodies)
            archive_new_pages(conn, "fresh_pages", bodies)
            conn.execute(_insert_sql(table, left_null=("content_gzip",)))
        else:
            conn.execute(_insert_sql(table))


def load_staged(conn: duckdb.DuckDBPyConnection, folder: Path, dedup: DedupSettings | None = None) -> LoadResult:
    """Load every staged batch in ``folder``, oldest first, deleting each once it is committed.

    A batch that cannot be loaded (``corrupt_stage``) is quarantined and the others still load.
    """
    batches = articles = quarantined = 0
    for path in staged_batches(folder):
        try:
            articles += load_staged_batch(conn, path, dedup)
        except WarehouseError as exc:
            if not path.exists():
                continue  # another process sharing this staging folder loaded it meanwhile
            if exc.code != "corrupt_stage":
                raise
            quarantine_batch(conn, path, exc)
            quarantined += 1
            continue
        batches += 1
        shutil.rmtree(path, ignore_errors=True)
    return LoadResult(batches, articles, quarantined=quarantined)
