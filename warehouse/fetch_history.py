"""What the warehouse remembers of earlier fetches, for conditional requests and unchanged sources.

:func:`latest_validators` answers, per URL, with the ETag, Last-Modified and body hash of its latest
complete 200 and the time it was last had, counting only runs that completed: a run killed after it
loaded a feed's fetch but before it processed the feed's items must not make the next run skip the
feed as unchanged (its items would be lost). :func:`validator_lookup` wraps it for the fetch and discover
tasks: a missing warehouse means nothing is known yet, and a warehouse locked by a load means this run
fetches unconditionally rather than waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import duckdb

from broadsheet.config.errors import WarehouseError
from broadsheet.config.records import Validators
from broadsheet.warehouse.connection import Target, connect_reader, warehouse_exists
from broadsheet.warehouse.sql import query


def latest_validators(conn: duckdb.DuckDBPyConnection, urls: list[str]) -> dict[str, Validators]:
    """Validators of the URLs the warehouse has fetched before; URLs it has not are absent."""
    if not urls:
        return {}
    rows = conn.execute(query("latest_validators"), [urls]).fetchall()
    return {url: Validators(etag, last_modified, body_sha256, fetched_at)
            for url, etag, last_modified, body_sha256, fetched_at in rows}


def read_validators(target: Target, urls: list[str]) -> dict[str, Validators]:
    """:func:`latest_validators` from the warehouse; empty when it does not exist or is locked."""
    if not urls or not warehouse_exists(target):
        return {}
    try:
        conn = connect_reader(target)
    except WarehouseError:
        return {}
    try:
        return latest_validators(conn, urls)
    finally:
        conn.close()


def validator_lookup(target: Target) -> Callable[[list[str]], Mapping[str, Validators]]:
    """A lookup of validators by URL in the warehouse ``target``."""
    return lambda urls: read_validators(target, urls)


def seen_urls(target: Target, urls: list[str]) -> set[str]:
    """Those of ``urls`` the warehouse has a page or a rejection of (by any run); empty without a warehouse."""
    if not urls or not warehouse_exists(target):
        return set()
    conn = connect_reader(target)
    try:
        return {row[0] for row in conn.execute(query("seen_urls"), {"urls": urls}).fetchall()}
    finally:
        conn.close()
