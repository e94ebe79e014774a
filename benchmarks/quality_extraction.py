"""Extraction quality on fundus-news: broadsheet's extraction beside bare trafilatura, in one run.

    python benchmarks/quality_extraction.py [--fundus DIR] [--limit N] [--results FILE]

Every page listed in ``expected.jsonl`` is read with broadsheet's reader and extracted three ways:
by broadsheet (``extract_article``), by trafilatura with its default settings, and by trafilatura with
the options broadsheet passes it (so the difference between the last two columns is broadsheet's own
post-processing). Each extractor is given the page's original URL, as it would be when fetched. Scores
follow ../shared/eval/README.md: title exact match after whitespace normalisation, date on the same UTC
calendar day, authors as a set (F1, averaged over pages), body by the shingle F1 of the Zyte
article-extraction benchmark. The table is printed and appended to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import trafilatura

from broadsheet.config.errors import ExtractError
from broadsheet.config.records import Candidate, Page
from broadsheet.config.settings import ExtractSettings, apply_process_environment, load_settings
from broadsheet.tasks.extract import extract_article
from broadsheet.tasks.fetch import file_url, read_local

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder

DEFAULT_FUNDUS = EVAL / "fundus-news"
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Extracted:
    """What an extractor found in one page, in the shape the scores compare."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    day: date | None = None
    text: str = ""


@dataclass(frozen=True)
class Expected:
    page: Page
    title: str
    authors: tuple[str, ...]
    day: date
    text: str


Extractor = Callable[[Page], Extracted]


def utc_day(value: datetime) -> date:
    """The UTC calendar day of ``value``; a time without a zone is taken as UTC."""
    return (value.astimezone(UTC) if value.tzinfo else value).date()


def by_broadsheet(settings: ExtractSettings) -> Extractor:
    def extract(page: Page) -> Extracted:
        try:
            article = extract_article(page, settings)
        except ExtractError:
            return Extracted()
        day = utc_day(article.published_at) if article.published_at else None
        return Extracted(article.title, article.authors, day, article.text)

    return extract


def by_trafilatura(**options: Any) -> Extractor:
    def extract(page: Page) -> Extracted:
        document: Any = trafilatura.bare_extraction(page.content, url=page.url, with_metadata=True, **options)
        if document is None:
            return Extracted()
        authors = tuple(name.strip() for name in (document.author or "").split(";") if name.strip())
        day = date.fromisoformat(document.date[:10]) if document.date else None
        return Extracted(document.title, authors, day, document.text or "")

    return extract


def load_expected(folder: Path, limit: int | None, max_bytes: int) -> list[Expected]:
    """The pages of ``expected.jsonl`` with their expectations; each page carries its original URL."""
    lines = (folder / "expected.jsonl").read_text(encoding="utf-8").splitlines()[:limit]
    expected = []
    for line in lines:
        row = json.loads(line)
        page = read_local(Candidate(file_url(folder / row["html"]), "fundus-news"), max_bytes)
        page = replace(page, url=row["url"], final_url=row["url"])
        expected.append(Expected(page, row["title"], tuple(row["authors"] or ()),
                                 utc_day(datetime.fromisoformat(row["publishing_date"])), row["body_text"]))
    return expected


def normalize(text: str | None) -> str:
    return " ".join((text or "").split())


def authors_f1(found: Iterable[str], wanted: Iterable[str]) -> float:
    """Set F1 of whitespace-normalised names; no author expected and none found is a perfect 1."""
    got, want = {normalize(a) for a in found}, {normalize(a) for a in wanted}
    if not got and not want:
        return 1.0
    return 2 * len(got & want) / (len(got) + len(want))


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    """The multiset of ``size``-token windows; a text shorter than ``size`` tokens is one shingle."""
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i:i + size]) for i in range(max(1, len(tokens) - size + 1)) if tokens[i:i + size])


def shingle_counts(found: str, wanted: str) -> tuple[float, float, float]:
    """tp, fp, fn of one document's shingles, each divided by tp + fp + fn (so long texts weigh no more)."""
    got, want = shingles(found), shingles(wanted)
    tp = sum((got & want).values())
    fp, fn = sum((got - want).values()), sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def body_scores(counts: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Corpus precision and recall (means of per-document values, as the Zyte benchmark does) and F1."""
    precision = statistics.mean(1.0 if fp == fn == 0 else tp / (tp + fp) for tp, fp, fn in counts if tp + fp > 0)
    recall = statistics.mean(1.0 if fp == fn == 0 else tp / (tp + fn) for tp, fp, fn in counts if tp + fn > 0)
    return precision, recall, 2 * precision * recall / (precision + recall)


def score(extract: Extractor, pages: list[Expected]) -> dict[str, float]:
    """Every metric of one extractor over the pages (speed is stages.py's business)."""
    found = [extract(item.page) for item in pages]
    pairs = list(zip(found, pages, strict=True))
    precision, recall, f1 = body_scores([shingle_counts(f.text, e.text) for f, e in pairs])
    return {
        "title exact": statistics.mean(normalize(f.title) == normalize(e.title) for f, e in pairs),
        "date same UTC day": statistics.mean(f.day == e.day for f, e in pairs),
        "authors F1": statistics.mean(authors_f1(f.authors, e.authors) for f, e in pairs),
        "body precision": precision,
        "body recall": recall,
        "body F1": f1,
        "pages without text": sum(not f.text.strip() for f in found),
    }


EXTRACTORS = ("broadsheet", "trafilatura default", "trafilatura, broadsheet's options")
NOTE = ("Title, date and authors are means over pages (authors: set F1 per page, 1 when none is expected and "
        "none found). Body precision and recall are means of per-page shingle scores (a page without text "
        "counts towards recall only), F1 = 2PR/(P+R).")


def extractors(settings: ExtractSettings) -> dict[str, Extractor]:
    return dict(zip(EXTRACTORS, (
        by_broadsheet(settings),
        by_trafilatura(),
        by_trafilatura(favor_precision=settings.favor_precision, include_comments=False,
                       include_tables=settings.include_tables),
    ), strict=True))


def results_table(scores: dict[str, dict[str, float]]) -> str:
    metrics = next(iter(scores.values()))
    rows = [[metric] + [_cell(metric, by[metric]) for by in scores.values()] for metric in metrics]
    return markdown_table(["metric", *scores], rows)


def _cell(metric: str, value: float) -> str:
    return f"{value:.0f}" if metric == "pages without text" else f"{value:.3f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fundus", type=Path, default=DEFAULT_FUNDUS,
                        help="fundus-news folder holding expected.jsonl (default: ../shared/eval/fundus-news)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages")
    parser.add_argument("--results", type=Path, default=None, help="results file (default: benchmarks/RESULTS.md)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    apply_process_environment()
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    started = time.perf_counter()
    folder = require_folder(args.fundus.resolve(), "fundus-news folder")
    settings = load_settings()
    pages = load_expected(folder, args.limit, settings.http.max_body_bytes)
    scores = {}
    for name, extract in extractors(settings.extract).items():
        print(f"extracting {len(pages)} pages with {name} ...", file=sys.stderr, flush=True)
        scores[name] = score(extract, pages)
    body = results_table(scores) + "\n\n" + NOTE
    print(body)
    facts = {"pages": f"{len(pages)} from `eval/fundus-news/expected.jsonl`, each with its original URL",
             "benchmark took": f"{time.perf_counter() - started:.0f} s"}
    append_section("Extraction quality on fundus-news (benchmarks/quality_extraction.py)", facts, body,
                   *([args.results] if args.results else []))


if __name__ == "__main__":
    main()
