"""How the CLI prints: plain text for people, and one versioned machine format for scripts.

Every value and message reaches the terminal as it is: the consoles interpret no Rich markup, emoji
codes or highlighting, so a title such as "Watch [video] storm hits coast" prints as written. Colour
comes only from styles given in code (:func:`error`, :func:`warning`), never from text.

``--format`` chooses between ``table`` (for people) and the machine format, version
:data:`FORMAT_VERSION` (documented in docs/cli.md): ``json`` (one document, ``format_version`` at its
top), ``jsonl`` (one object per line: a row, or the one record) and ``csv`` (a header, then rows; a
record as ``field,value`` lines). Values are JSON values: bytes as base64, durations as seconds,
times as ISO 8601 strings.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMAT_VERSION = 1

out = Console(markup=False, highlight=False, emoji=False)
err = Console(stderr=True, markup=False, highlight=False, emoji=False)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


def error(message: str) -> None:
    """``error: MESSAGE`` on stderr, the message as written."""
    err.print(Text.assemble(("error:", "red"), " ", message))


def warning(message: str, console: Console = out) -> None:
    console.print(Text(message, style="yellow"))


def json_value(value: Any) -> Any:
    """``value`` as a JSON value: bytes base64, durations in seconds, times ISO 8601, NaN null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(item) for item in value]
    if isinstance(value, UUID | Path):
        return str(value)
    return str(value)


def _text(value: Any) -> str:
    """A value as one CSV or table cell: JSON values, nested ones as JSON text, null empty."""
    value = json_value(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _write_json(document: Any, indent: int | None) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=indent) + "\n")


def print_rows(columns: list[str], rows: Iterable[tuple], output: OutputFormat, title: str | None = None) -> None:
    """Rows of a result in ``output``."""
    records = [dict(zip(columns, (json_value(v) for v in row), strict=True)) for row in rows]
    if output is OutputFormat.json:
        _write_json({"format_version": FORMAT_VERSION, "columns": columns, "rows": records}, 2)
    elif output is OutputFormat.jsonl:
        for record in records:
            _write_json(record, None)
    elif output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(v) for v in record.values()] for record in records)
        sys.stdout.write(buffer.getvalue())
    else:
        out.print(table(columns, [tuple(r.values()) for r in records], title))


def table(columns: list[str], rows: Iterable[tuple], title: str | None = None) -> Table:
    """A Rich table whose cells are plain text."""
    shown = Table(*columns, title=title, title_justify="left")
    for row in rows:
        shown.add_row(*(Text(_text(value)) for value in row))
    return shown


def print_record(record: Mapping[str, Any], output: OutputFormat, human: Callable[[], None]) -> None:
    """One result (a run summary, an article) in ``output``; ``human()`` prints it for ``table``."""
    document = {"format_version": FORMAT_VERSION, **json_value(record)}
    if output is OutputFormat.json:
        _write_json(document, 2)
    elif output is OutputFormat.jsonl:
        _write_json(document, None)
    elif output is OutputFormat.csv:
        print_rows(["field", "value"], list(_flatten(document)), OutputFormat.csv)
    else:
        human()


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """``(dotted.field, value)`` pairs of a JSON object; lists stay whole (as JSON text in a cell)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    else:
        yield prefix, value
