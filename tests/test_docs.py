"""The reference in docs/ is what the code says: regenerating it changes nothing, and every link resolves."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("docs_generate", REPO / "docs" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_settings_and_cli_reference_are_fresh() -> None:
    stale = [str(path.relative_to(REPO)) for path, text in _generator().outputs().items()
             if path.read_text(encoding="utf-8") != text]
    assert stale == [], f"run `.venv/bin/python docs/generate.py` to refresh {', '.join(stale)}"


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} → {target}")
    assert broken == []


def test_the_readme_fits_two_screens() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 160
