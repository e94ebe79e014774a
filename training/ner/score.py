"""Span scoring as ``../shared/eval/README.md`` defines it: exact spans per type, micro F1 over PER/ORG/LOC.

A predicted span that lies wholly inside a gold span of a type outside the three (tag ``None``) is ignored.
"""

from __future__ import annotations

from collections import Counter

from data import LABELS, Chunk

TYPES = ("PER", "ORG", "LOC")


def spans(tags: list[str | None]) -> set[tuple[int, int, str]]:
    """BIO tags (lenient: an I- after another type starts a span) to ``(start, end, type)`` word spans."""
    found, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        inside = tag is not None and tag != "O"
        if kind is not None and (not inside or tag.startswith("B-") or tag[2:] != kind):
            found.add((start, i, kind))
            kind = None
        if inside and kind is None:
            start, kind = i, tag[2:]
    return {s for s in found if s[2] in TYPES}


def word_tags(chunk: Chunk, predicted: list[int]) -> list[str]:
    """Each word's tag: the label of its first sub-token."""
    tags = ["O"] * len(chunk.words)
    seen: set[int] = set()
    for word, label in zip(chunk.word_ids, predicted, strict=True):
        if word not in seen:
            seen.add(word)
            tags[word] = LABELS[label]
    return tags


def score_chunks(items: list[Chunk], predictions: list[list[int]]) -> dict:
    counts: Counter = Counter()
    for chunk, predicted in zip(items, predictions, strict=True):
        gold_tags = [t for _, t in chunk.words]
        gold = spans(gold_tags)
        ignored = {i for i, t in enumerate(gold_tags) if t is None}
        for span in spans(word_tags(chunk, predicted)):
            if set(range(span[0], span[1])) <= ignored:
                continue
            counts["tp", span[2]] += span in gold
            counts["fp", span[2]] += span not in gold
        for span in gold:
            counts["gold", span[2]] += 1
    return summary(counts)


def summary(counts: Counter) -> dict:
    def f1(tp: int, fp: int, gold: int) -> float:
        return round(2 * tp / (tp + fp + gold), 4) if tp + fp + gold else 0.0

    out = {t: f1(counts["tp", t], counts["fp", t], counts["gold", t]) for t in TYPES}
    out["micro"] = f1(*(sum(counts[k, t] for t in TYPES) for k in ("tp", "fp", "gold")))
    return out
