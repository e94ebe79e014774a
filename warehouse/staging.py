"""Staging batches: the file format in which a batch waits to be loaded (:mod:`broadsheet.warehouse.loading`).

A batch is *staged* as one newline-delimited JSON file per table plus a manifest, in a folder that
appears atomically (written under a temporary name, flushed, then renamed). So a crash while staging
leaves a ``.NAME.partial`` folder that is never loaded, and a staged batch is always whole. ``TABLES``
holds each staged table's columns in insert order, with the type DuckDB reads each as; ``KEYS`` the
columns by which a load tells a new row from one the warehouse holds.
"""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from broadsheet.config.errors import WarehouseError
from broadsheet.config.records import Batch

# Columns of each staged table, in insert order, with the JSON type DuckDB reads them as.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "pages": (("page_id", "varchar"), ("url", "varchar"), ("final_url", "varchar"), ("source_id", "varchar"),
              ("content_type", "varchar"), ("content_gzip", "blob"), ("bytes", "bigint"),
              ("fetched_at", "timestamptz")),
    "articles": (("article_id", "varchar"), ("url", "varchar"), ("canonical_url", "varchar"),
                 ("source_id", "varchar"), ("page_id", "varchar"), ("title", "varchar"),
                 ("authors", "varchar[]"), ("published_at", "timestamptz"), ("first_seen_at", "timestamptz"),
                 ("language", "varchar"), ("site", "varchar"), ("text", "varchar"),
                 ("content_hash", "varchar"), ("extractor", "varchar"), ("run_id", "varchar"),
                 ("text_chars", "integer")),
    "entities": (("entity_id", "varchar"), ("name", "varchar"), ("entity_type", "varchar"),
                 ("normalized_name", "varchar"), ("first_seen_at", "timestamptz"), ("country_code", "varchar"),
                 ("latitude", "double"), ("longitude", "double"), ("gazetteer_id", "varchar")),
    "entity_aliases": (("entity_id", "varchar"), ("alias", "varchar"), ("first_seen_at", "timestamptz")),
    "mentions": (("article_id", "varchar"), ("entity_id", "varchar"), ("surface", "varchar"),
                 ("start_char", "integer"), ("end_char", "integer"), ("in_title", "boolean"),
                 ("enricher", "varchar")),
    "article_topics": (("article_id", "varchar"), ("topic_id", "varchar"), ("score", "double"),
                       ("rank", "integer"), ("taxonomy_version", "varchar"), ("enricher", "varchar")),
    "article_subtopics": (("article_id", "varchar"), ("topic_id", "varchar"), ("iptc_code", "varchar"),
                          ("label", "varchar"), ("level", "integer"), ("level2_code", "varchar"),
                          ("level2_label", "varchar"), ("score", "double"), ("rank", "integer"),
                          ("enricher", "varchar")),
    "article_entities": (("article_id", "varchar"), ("entity_id", "varchar"), ("mentions", "integer"),
                         ("in_title", "boolean"), ("in_lead", "boolean"), ("first_char", "integer"),
                         ("salience", "double"), ("enricher", "varchar")),
    "keyphrases": (("article_id", "varchar"), ("phrase", "varchar"), ("score", "double"), ("rank", "integer"),
                   ("enricher", "varchar")),
    "article_enrichments": (("article_id", "varchar"), ("entity_enricher", "varchar"), ("topic_enricher", "varchar"),
                            ("taxonomy_version", "varchar"), ("enriched_at", "timestamptz")),
    "fetches": (("run_id", "varchar"), ("url", "varchar"), ("final_url", "varchar"), ("status_code", "integer"),
                ("content_type", "varchar"), ("bytes", "bigint"), ("etag", "varchar"),
                ("last_modified", "varchar"), ("elapsed_ms", "double"), ("error_type", "varchar"),
                ("error_message", "varchar"), ("fetched_at", "timestamptz"), ("body_sha256", "varchar")),
    "rejections": (("run_id", "varchar"), ("stage", "varchar"), ("url", "varchar"), ("source_id", "varchar"),
                   ("error_type", "varchar"), ("message", "varchar"), ("transient", "boolean"),
                   ("rejected_at", "timestamptz")),
    "embeddings": (("article_id", "varchar"), ("model", "varchar"), ("dimensions", "integer"),
                   ("vector", "float[]")),
}
# The key columns of each keyed table: a load inserts only rows whose key is new (an anti-join: no table has
# a primary key, whose index would make every load slower as the warehouse grows; migration 0005).
KEYS: dict[str, tuple[str, ...]] = {
    "pages": ("page_id",), "articles": ("article_id",), "entities": ("entity_id",),
    "entity_aliases": ("entity_id", "alias"),
    "mentions": ("article_id", "in_title", "start_char", "end_char", "enricher"),
    "article_topics": ("article_id", "topic_id", "enricher"),
    "article_subtopics": ("article_id", "topic_id", "iptc_code", "enricher"),
    "article_entities": ("article_id", "entity_id", "enricher"),
    "keyphrases": ("article_id", "phrase", "enricher"), "article_enrichments": ("article_id",),
    "embeddings": ("article_id", "model"),
}
# Rows an enrichment produces: a re-enriched article's rows here are replaced, not added to.
ENRICHMENT_TABLES = ("mentions", "article_topics", "article_subtopics", "article_entities", "keyphrases",
                     "article_enrichments", "embeddings")
MANIFEST = "manifest.json"


def staging_dir(warehouse_path: Path) -> Path:
    """Where batches for this warehouse wait to be loaded."""
    return warehouse_path.with_name(warehouse_path.name + ".staging")


def _rows(batch: Batch, run_id: str) -> dict[str, Iterator[tuple]]:
    now = datetime.now(UTC)
    first_seen = {a.article_id: a.fetched_at for a in batch.articles}
    for article_id in batch.reenriched:  # re-enriched articles are already loaded: seen now
        first_seen.setdefault(article_id, now)
    return {
        "pages": ((p.page_id, p.url, p.final_url, p.source, p.content_type,
                   base64.b64encode(gzip.compress(p.content, 1)).decode(), len(p.content), p.fetched_at)
                  for p in batch.pages),
        "articles": ((a.article_id, a.url, a.canonical_url, a.source, a.page_id, a.title, list(a.authors),
                      a.published_at, a.fetched_at, a.language, a.site, a.text, a.content_hash, a.extractor,
                      run_id, len(a.text)) for a in batch.articles),
        "entities": ((e.entity_id, e.name, e.entity_type, e.normalized_name, first_seen[en.article_id],
                      e.country_code, e.latitude, e.longitude, e.gazetteer_id)
                     for en in batch.enrichments for e in en.entities),
        "entity_aliases": ((m.entity_id, m.surface, first_seen[en.article_id])
                           for en in batch.enrichments for m in en.mentions),
        "mentions": ((en.article_id, m.entity_id, m.surface, m.start_char, m.end_char, m.in_title,
                      en.entity_enricher) for en in batch.enrichments for m in en.mentions),
        "article_topics": ((en.article_id, t.topic_id, t.score, t.rank, en.taxonomy_version, en.topic_enricher)
                           for en in batch.enrichments for t in en.topics),
        "article_subtopics": ((en.article_id, t.topic_id, t.iptc_code, t.label, t.level, t.level2_code, t.level2_label,
                               t.score, t.rank, en.topic_enricher) for en in batch.enrichments for t in en.subtopics),
        "article_entities": ((en.article_id, s.entity_id, s.mentions, s.in_title, s.in_lead, s.first_char, s.score,
                              en.entity_enricher) for en in batch.enrichments for s in en.salience),
        "keyphrases": ((en.article_id, k.phrase, k.score, k.rank, en.entity_enricher)
                       for en in batch.enrichments for k in en.keyphrases),
        "article_enrichments": ((en.article_id, en.entity_enricher, en.topic_enricher, en.taxonomy_version, now)
                                for en in batch.enrichments),
        "fetches": ((run_id, f.url, f.final_url, f.status_code, f.content_type, f.bytes_read, f.etag,
                     f.last_modified, f.elapsed_ms, f.error_type, f.error_message, f.started_at, f.body_sha256)
                    for f in batch.fetches),
        "rejections": ((run_id, r.stage, r.url, r.source, r.error_type, r.message, r.transient, now)
                       for r in batch.rejections),
        "embeddings": ((en.article_id, en.embedding_model, len(en.embedding), list(en.embedding))
                       for en in batch.enrichments if en.embedding),
    }


def stage_batch(batch: Batch, run_id: str, folder: Path) -> Path:
    """Write ``batch`` under ``folder`` as a staged batch that appears all at once; returns its path."""
    batch_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    final = folder / batch_id
    partial = folder / f".{batch_id}.partial"
    try:
        partial.mkdir(parents=True)
        for table, rows in _rows(batch, run_id).items():
            columns = [name for name, _ in TABLES[table]]
            lines = [_json_line(dict(zip(columns, row, strict=True))) for row in rows]
            if lines:
                (partial / f"{table}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        manifest = {"batch_id": batch_id, "run_id": run_id, "articles": len(batch.articles),
                    "reenriched": batch.reenriched, "rekeyed": [vars(r) for r in batch.rekeyed]}
        (partial / MANIFEST).write_bytes(orjson.dumps(manifest))
        _fsync_dir(partial)
        os.rename(partial, final)
        _fsync(folder)  # the rename; not the other batches in it, which a load may be deleting
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise WarehouseError(f"cannot stage a batch in {folder}: {exc.strerror or exc}", code="staging",
                             transient=True) from exc
    return final


def _json_line(row: dict) -> bytes:
    """One staged row; lone surrogates (a JSON feed's "\\ud800" escape) become U+FFFD, as JSON cannot hold them."""
    try:
        return orjson.dumps(row)
    except orjson.JSONEncodeError:
        return orjson.dumps({key: _without_surrogates(value) for key, value in row.items()})


def _without_surrogates(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value


def _fsync_dir(path: Path) -> None:
    """Flush the files of the folder ``path``, then the folder itself."""
    for file in [*path.iterdir(), path]:
        _fsync(file)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staged_batches(folder: Path) -> list[Path]:
    """Staged batches waiting in ``folder``, oldest first (partial writes are not batches)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
