"""Every SQL statement the README and docs/ show runs on the demo warehouse, so the cookbook cannot rot:
each ```sql block, and each `broadsheet query "..."` of a shell example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broadsheet.config.settings import Settings
from broadsheet.warehouse.reports import run_query

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _statements() -> list[tuple[str, str]]:
    """(where, statement) for every statement of every ```sql block and shell `broadsheet query "..."`."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = re.findall(r"^```sql\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        blocks += re.findall(r'broadsheet query "((?:select|with|describe|show|from) [^"]+)"', text, re.IGNORECASE)
        for block in blocks:
            for statement in re.split(r";[ \t]*(?:\n|$)", block):
                code = "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--"))
                if code.strip():
                    found.append((f"{page.name}: {' '.join(code.split())[:60]}", statement))
    return found


STATEMENTS = _statements()


def test_the_docs_show_sql_at_all() -> None:
    assert len(STATEMENTS) > 20
    assert any("README.md" in where for where, _ in STATEMENTS)


@pytest.mark.parametrize("statement", [s for _, s in STATEMENTS], ids=[w for w, _ in STATEMENTS])
def test_every_documented_statement_runs_on_the_demo_warehouse(demo_warehouse: Settings, statement: str) -> None:
    columns, _ = run_query(demo_warehouse.warehouse, statement)
    assert columns
