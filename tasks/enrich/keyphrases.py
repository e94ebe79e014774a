"""Keyphrases: the noun phrases an article is about, from the part-of-speech tags spaCy already made.

Candidates are runs of adjectives, nouns and proper nouns that end in a noun or proper noun (at most
four words, no stop words, no numbers). A candidate's score grows with how often it occurs, how early
it first occurs and whether the title uses it; phrases inside a longer kept phrase are dropped.
Scores are scaled so the best phrase scores 1. Pure function over a spaCy ``Doc``: no model of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from broadsheet.config.records import Keyphrase

KEEP = {"ADJ", "NOUN", "PROPN"}
HEADS = {"NOUN", "PROPN"}
MAX_WORDS = 4


@dataclass
class _Candidate:
    phrase: str
    count: int
    first: int


def _runs(doc: Any) -> Iterable[list[Any]]:
    run: list[Any] = []
    for token in [*doc, None]:
        if token is not None and token.pos_ in KEEP and not token.is_stop and token.is_alpha and len(token) > 1:
            run.append(token)
            continue
        while run and run[-1].pos_ not in HEADS:
            run.pop()
        if run:
            yield run[-MAX_WORDS:]
        run = []


def _text(tokens: list[Any]) -> str:
    return " ".join(t.text if t.pos_ == "PROPN" else t.text.lower() for t in tokens)


def extract_keyphrases(doc: Any, title: str, top_k: int) -> tuple[Keyphrase, ...]:
    """The ``top_k`` best phrases of a body ``doc``, best first."""
    candidates: dict[str, _Candidate] = {}
    for run in _runs(doc):
        phrase = _text(run)
        found = candidates.setdefault(phrase.casefold(), _Candidate(phrase, 0, run[0].idx))
        found.count += 1
    length = max(len(doc.text), 1)
    lowered_title = title.casefold()
    scored = {}
    for key, candidate in candidates.items():
        early = 1.0 - candidate.first / length
        words = len(key.split())
        score = candidate.count * (1 + 0.3 * (words - 1)) * (1 + early) * (2.0 if key in lowered_title else 1.0)
        scored[key] = (score, candidate.phrase)
    kept: list[tuple[float, str]] = []
    for key, (score, phrase) in sorted(scored.items(), key=lambda item: -item[1][0]):
        if any(f" {key} " in f" {other.casefold()} " for _, other in kept):
            continue
        kept.append((score, phrase))
        if len(kept) == top_k:
            break
    best = kept[0][0] if kept else 1.0
    return tuple(Keyphrase(phrase, round(score / best, 4), rank) for rank, (score, phrase) in enumerate(kept, 1))
