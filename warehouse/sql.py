"""The warehouse's static SQL, one statement per file, read once per process.

``query(name)`` is ``queries/<name>.sql`` (statements the code runs); ``view(name)`` is
``views/<name>.sql`` (the analysts' views, re-created after every migration). SQL that is generated
(the loads' anti-joins, built from the staged tables' columns) stays in Python.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
VIEWS_DIR = Path(__file__).resolve().parent / "views"


@cache
def query(name: str) -> str:
    """The text of ``queries/<name>.sql``."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def view(name: str) -> str:
    """The text of ``views/<name>.sql``."""
    return (VIEWS_DIR / f"{name}.sql").read_text(encoding="utf-8")


def literal(path: Path | str) -> str:
    """``path`` as an SQL string literal, quotes doubled: ATTACH, COPY and view definitions take no bound
    parameters for a file name."""
    return "'" + str(path).replace("'", "''") + "'"
