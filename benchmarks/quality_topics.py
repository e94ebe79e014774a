"""Topic quality on BBC News: broadsheet's taxonomy scoring beside one-line descriptions, in one run.

    python benchmarks/quality_topics.py [--bbc DIR] [--every N] [--taxonomy FILE] [--results FILE]

Every article (line 1 headline, then paragraphs; label = folder) is scored against the *full* taxonomy
(17 IPTC Media Topics by default) and its top topic is mapped to a BBC class as
../shared/eval/README.md says: economy, business and finance → business; arts, culture, entertainment
and media → entertainment; politics → politics; sport → sport; science and technology → tech; any other
topic is wrong. Macro F1 over the five classes. Two systems share the article embeddings:
*one-line descriptions* (each topic's centroid is its ``label: description`` alone, the old scorer)
and *broadsheet* (``tasks.topics``: descriptions, keywords and examples from topics.toml). Nothing
is trained or tuned on BBC text. The table is printed and appended to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from broadsheet.config.settings import apply_process_environment, load_settings
from broadsheet.config.taxonomy import Taxonomy, load_taxonomy
from broadsheet.tasks import topics
from broadsheet.tasks.records import Article

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder

CLASSES = ("business", "entertainment", "politics", "sport", "tech")
IPTC_TO_BBC = {"04000000": "business", "01000000": "entertainment", "11000000": "politics",
               "15000000": "sport", "13000000": "tech"}


def read_bbc(root: Path, every: int) -> tuple[list[Article], list[str]]:
    articles, labels = [], []
    now = datetime.now(UTC)
    for label in CLASSES:
        for path in sorted((root / label).glob("*.txt"))[::every]:
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            title, _, body = text.strip().partition("\n")
            articles.append(Article(path.name, "", "", "bbc", title.strip(), (), None, "en", None,
                                    body.strip(), "", now, "eval"))
            labels.append(label)
    return articles, labels


def one_line(taxonomy: Taxonomy) -> Taxonomy:
    """The same topics described by ``label: description`` only."""
    bare = tuple(t.model_copy(update={"keywords": (), "examples": ()}) for t in taxonomy.topics)
    return replace(taxonomy, topics=bare, version=taxonomy.version + "-one-line")


def predicted_classes(scores: np.ndarray, taxonomy: Taxonomy) -> list[str]:
    return [IPTC_TO_BBC.get(taxonomy.topics[int(np.argmax(row))].iptc_code or "", "other") for row in scores]


def macro_f1(gold: list[str], predicted: list[str]) -> tuple[float, dict[str, float]]:
    per_class = {}
    for label in CLASSES:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        per_class[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return sum(per_class.values()) / len(CLASSES), per_class


def centroid_only(vectors: np.ndarray, protos: topics.Prototypes) -> np.ndarray:
    return vectors @ protos.centroids.T


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bbc", type=Path, default=EVAL / "bbc-news")
    parser.add_argument("--every", type=int, default=1, help="Use every Nth article of each class.")
    parser.add_argument("--taxonomy", type=Path, default=None, help="Taxonomy TOML (default: topics.toml).")
    parser.add_argument("--results", type=Path, default=None, help="Results file (default benchmarks/RESULTS.md).")
    parser.add_argument("--no-record", action="store_true", help="Print only; do not append to RESULTS.md.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    apply_process_environment(quiet=True)
    settings = load_settings().topics
    taxonomy = load_taxonomy(args.taxonomy) if args.taxonomy else topics.taxonomy_for(settings)
    articles, gold = read_bbc(require_folder(args.bbc, "BBC News"), args.every)
    start = time.perf_counter()
    vectors = topics.embed([topics.article_lead(a, settings.max_chars) for a in articles], settings.model)
    seconds = time.perf_counter() - start
    systems = {
        "MiniLM, one-line descriptions": centroid_only(vectors, topics.prototypes(settings.model, one_line(taxonomy))),
        "broadsheet (topics.toml)": topics.topic_scores(vectors, topics.prototypes(settings.model, taxonomy)),
    }
    rows = []
    for name, scores in systems.items():
        predicted = predicted_classes(scores, taxonomy)
        macro, per_class = macro_f1(gold, predicted)
        print(name, f"{macro:.3f}", Counter(p for g, p in zip(gold, predicted, strict=True) if g != p))
        rows.append([name, f"{macro:.3f}", *(f"{per_class[c]:.3f}" for c in CLASSES)])
    table = markdown_table(["system", "macro F1", *CLASSES], rows)
    print(table)
    if not args.no_record:
        facts = {"articles": str(len(articles)), "topics": str(len(taxonomy.topics)),
                 "taxonomy": taxonomy.version, "embedding": f"{len(articles) / seconds:.1f} articles/s"}
        append_section("Topic quality on BBC News (benchmarks/quality_topics.py)", facts, table,
                       *([args.results] if args.results else []))


if __name__ == "__main__":
    main()
