"""Scores of a topic head: BBC News through the product's own scoring, HuffPost by cross-validation, calibration.

BBC News is mapped as ``../shared/eval/README.md`` says: the article's top topic among the full default
taxonomy, economy → business, arts → entertainment, politics, sport, science and technology → tech, any
other topic wrong; macro F1 over the five classes. HuffPost is scored on its out-of-fold predictions: the
top topic against the one IPTC topic its category maps to, macro F1 over those topics.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import topic_data as data
from vectors import cached_vectors

from broadsheet.config.settings import DEFAULT_TOPICS_FILE, TopicSettings
from broadsheet.config.taxonomy import load_taxonomy
from broadsheet.tasks.enrich import topics
from broadsheet.tasks.enrich.topic_head import head_text

IPTC_TO_BBC = {data.ECONOMY: "business", data.ARTS: "entertainment", data.POLITICS: "politics",
               data.SPORT: "sport", data.SCIENCE: "tech"}
BINS = np.linspace(0.0, 1.0, 11)


def macro_f1(gold: list[str], predicted: list[str], classes: list[str]) -> tuple[float, dict[str, float]]:
    per_class = {}
    for label in classes:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        per_class[label] = round(2 * tp / (2 * tp + fp + fn), 4) if tp else 0.0
    return round(sum(per_class.values()) / len(classes), 4), per_class


def calibration_table(probability: np.ndarray, positive: np.ndarray) -> list[dict[str, float]]:
    """Per tenth of the probability range: how many scores fell in it, their mean, and how many were right."""
    rows = []
    which = np.clip(np.digitize(probability, BINS) - 1, 0, len(BINS) - 2)
    for b in range(len(BINS) - 1):
        inside = which == b
        if inside.any():
            rows.append({"bin": f"{BINS[b]:.1f}-{BINS[b + 1]:.1f}", "n": int(inside.sum()),
                         "mean_p": round(float(probability[inside].mean()), 3),
                         "observed": round(float(positive[inside].mean()), 3)})
    return rows


def huffpost_cv(probability: np.ndarray, labels: np.ndarray, kind: np.ndarray) -> dict:
    rows = np.array([k.startswith("huffpost:") for k in kind])
    gold = [data.TOP_LEVEL[int(np.argmax(r))] for r in labels[rows]]
    predicted = [data.TOP_LEVEL[int(i)] for i in probability[rows].argmax(axis=1)]
    macro, per_topic = macro_f1(gold, predicted, sorted(set(gold)))
    return {"articles": int(rows.sum()), "macro_f1": macro, "per_topic": per_topic}


def bbc_report(folder: Path, settings: TopicSettings, cache: Path, version: str) -> dict:
    """BBC macro F1 of the shipped head (the product's scoring) and of the former prototypes, with calibration."""
    examples, gold = data.bbc(folder)
    vectors = cached_vectors(examples, settings, cache, "bbc")
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    codes = [t.iptc_code or "" for t in taxonomy.topics]
    texts = [head_text(e.title, e.text) for e in examples]
    scores = topics.topic_scores(vectors, texts, settings, taxonomy)
    before = topics.prototype_similarities(vectors, topics.prototypes(settings, taxonomy))
    report = {"head_version": version}
    for name, matrix in (("prototypes_before", before), ("head", scores)):
        predicted = [IPTC_TO_BBC.get(codes[int(i)], "other") for i in matrix.argmax(axis=1)]
        macro, per_class = macro_f1(gold, predicted, list(data.BBC_CLASSES))
        report[name] = {"macro_f1": macro, "per_class": per_class,
                        "errors": {g: Counter(taxonomy.topics[int(i)].id for i, gg, p in
                                              zip(matrix.argmax(axis=1), gold, predicted, strict=True)
                                              if gg == g != p).most_common(4) for g in data.BBC_CLASSES}}
    top = scores.max(axis=1)
    right = np.array([IPTC_TO_BBC.get(codes[int(i)]) == g for i, g in zip(scores.argmax(axis=1), gold, strict=True)])
    report["calibration_top_topic"] = calibration_table(top, right)
    mapped = [codes.index(code) for code in IPTC_TO_BBC]
    truth = np.array([[IPTC_TO_BBC[codes[j]] == g for j in mapped] for g in gold])
    report["calibration_five_topics"] = calibration_table(scores[:, mapped].ravel(), truth.ravel())
    report["topics_per_article_at_0.5"] = round(float((scores >= 0.5).sum(axis=1).mean()), 3)
    return report
