"""The learned entity tagger: raw text in, character spans of people, organisations and places out.

The model (``models/ner-minilm``, built by ``training/ner``) is all-MiniLM-L6-v2 fine-tuned for BIO token
classification, with a casing-shape id per sub-token (the vocabulary is lowercase, so casing travels
beside the ids). Text is split into words with their character offsets, the words into sub-tokens, and
the sub-tokens into overlapping windows of at most ``max_length``; each sub-token takes its label scores
from the window where it sits farthest from an edge, so a span cut by one window's edge is whole in the
next and comes out once. The best valid BIO sequence over all sub-tokens (Viterbi) decodes to
``(start, end, type)`` spans. Only onnxruntime, tokenizers and NumPy are needed at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from broadsheet.config.errors import ConfigError
from broadsheet.config.records import ENTITY_TYPES, EntityType
from broadsheet.models import load_tokenizer, onnx_session, shipped_model

ABBREVIATION = r"(?:Mr|Mrs|Ms|Dr|St|Mt|Ft|Ltd|Inc|Co|Corp|Bros|Jr|Sr|Gen|Gov|Sen|Rep|Col|Lt|Capt|Prof|Rev|No|vs)\."
# Words as CoNLL-2003 cuts them: initialisms and common abbreviations keep their dots, a possessive 's is
# a word of its own, hyphens, ampersands and inner apostrophes join; every other punctuation mark stands alone.
WORD = re.compile(rf"(?:[^\W\d_]\.)+(?=\s|$|[^\w.])|\b{ABBREVIATION}|\w+(?:(?:[&-]|['\u2019](?![sS]\b))\w+)*"
                  r"|['\u2019][sS]\b|[^\w\s]")

# Casing shape of a sub-token's original characters; continuation sub-tokens (inside a word) add CONTINUED.
PAD_SHAPE, LOWER, CAPITALISED, ALL_CAPS, DIGIT, OTHER = range(6)
CONTINUED = 5
SHAPES = 11
TYPES: dict[str, EntityType] = {"PER": "person", "ORG": "organization", "LOC": "place"}


def shape(piece: str) -> int:
    """The casing shape of a sub-token's characters: lower, capitalised, all caps, has a digit, other."""
    if any(c.isdigit() for c in piece):
        return DIGIT
    letters = [c for c in piece if c.isalpha()]
    if not letters:
        return OTHER
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return ALL_CAPS
    if any(c.isupper() for c in letters):
        return CAPITALISED
    return LOWER


def case_id(piece: str, continued: bool) -> int:
    """The casing id the model takes for one sub-token (0 is padding and special tokens)."""
    return shape(piece) + (CONTINUED if continued else 0)


class EntitySpan(NamedTuple):
    """A tagged stretch of text: ``text[start:end]`` names an entity of ``type``. ``shares`` (the learned
    tagger only) is how the tagger's belief splits over ``ENTITY_TYPES`` for this stretch: its mean
    probability of each type's labels over the stretch's sub-tokens, normalised to sum to 1."""

    start: int
    end: int
    type: EntityType
    shares: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Encoded:
    """A text's sub-tokens: ids, casing ids, character offsets, and the index of the word of each."""

    ids: list[int]
    cases: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int]


@dataclass(frozen=True)
class Tagger:
    """An ONNX Runtime session of the tagger with its tokenizer and settings."""

    session: Any
    tokenizer: Any
    labels: tuple[str, ...]
    max_length: int
    overlap: int
    # Windows per ONNX run. Each window of 128 costs ~11 MB of transient memory in the quantised graph, so a
    # batch of 16 raised a worker's peak by ~200 MB; 4 peaks ~70 MB higher and took 15% less CPU on news text.
    batch_size: int = 4

    def tag(self, text: str) -> list[EntitySpan]:
        return self.tag_many([text])[0]

    def tag_many(self, texts: list[str]) -> list[list[EntitySpan]]:
        """The entity spans of each text, in order. A text's windows are batched only with each other: the
        int8 graph scales its activations per batch, so a window batched with another text's would be scored
        a little differently, and the same article could come out otherwise beside other articles."""
        found = []
        for text in texts:
            encoded = encode(self.tokenizer, text)
            spans = windows(encoded.word_ids, self.max_length - 2, self.overlap)
            scores = self._run([(encoded, window) for window in spans])
            found.append(decode(text, encoded, merge(len(encoded.ids), list(zip(spans, scores, strict=True))),
                                self.labels))
        return found

    def _run(self, jobs: list[tuple[Encoded, tuple[int, int]]]) -> list[np.ndarray]:
        """Label log-probabilities of each window's sub-tokens; windows of like length batched together."""
        order = sorted(range(len(jobs)), key=lambda i: jobs[i][1][1] - jobs[i][1][0])
        out: list[np.ndarray] = [np.empty((0, len(self.labels)), dtype=np.float32)] * len(jobs)
        for first in range(0, len(order), self.batch_size):
            batch = order[first:first + self.batch_size]
            logits = self.session.run(None, self._feeds([jobs[i] for i in batch]))[0]
            shifted = logits - logits.max(-1, keepdims=True)
            scores = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
            for row, i in enumerate(batch):
                start, end = jobs[i][1]
                out[i] = scores[row, 1:end - start + 1]
        return out

    def _feeds(self, jobs: list[tuple[Encoded, tuple[int, int]]]) -> dict[str, np.ndarray]:
        width = max(end - start for _, (start, end) in jobs) + 2
        ids = np.zeros((len(jobs), width), dtype=np.int64)
        cases = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        cls, sep = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        for row, (e, (start, end)) in enumerate(jobs):
            n = end - start
            ids[row, :n + 2] = [cls, *e.ids[start:end], sep]
            cases[row, 1:n + 1] = e.cases[start:end]
            mask[row, :n + 2] = 1
        return {"input_ids": ids, "attention_mask": mask, "case_ids": cases}


def words(text: str) -> list[tuple[int, int]]:
    """The character offsets of the text's words (see ``WORD``)."""
    return [m.span() for m in WORD.finditer(text)]


def encode(tokenizer: Any, text: str) -> Encoded:
    """The text's sub-tokens with casing ids and character offsets into ``text``."""
    spans = words(text)
    if not spans:
        return Encoded([], [], [], [])
    encoding = tokenizer.encode([text[a:b] for a, b in spans], is_pretokenized=True, add_special_tokens=False)
    cases, offsets = [], []
    previous = -1
    for word, (start, end) in zip(encoding.word_ids, encoding.offsets, strict=True):
        base = spans[word][0]
        cases.append(case_id(text[base + start:base + end], word == previous))
        offsets.append((base + start, base + end))
        previous = word
    return Encoded(list(encoding.ids), cases, offsets, list(encoding.word_ids))


def windows(word_ids: list[int], size: int, overlap: int) -> list[tuple[int, int]]:
    """Sub-token ranges of at most ``size`` covering all, each starting at a word and overlapping the
    previous by about ``overlap`` sub-tokens (less only where a word is longer than that)."""
    n = len(word_ids)
    found: list[tuple[int, int]] = []
    start = 0
    while n:
        end = min(start + size, n)
        if end < n:
            end = _word_start_at_or_before(word_ids, end, floor=start + size // 2)
        found.append((start, end))
        if end >= n:
            break
        start = max(_word_start_at_or_before(word_ids, end - overlap, floor=start + 1), start + 1)
    return found


def _word_start_at_or_before(word_ids: list[int], index: int, floor: int) -> int:
    """The last index ``<= index`` (and ``> floor`` if any) where a word begins; ``index`` when none."""
    for i in range(index, floor, -1):
        if i == 0 or word_ids[i] != word_ids[i - 1]:
            return i
    return index


def merge(n: int, results: list[tuple[tuple[int, int], np.ndarray]]) -> np.ndarray:
    """Label scores per sub-token: from the window where it lies farthest from an edge that cuts the text."""
    width = results[0][1].shape[1] if results else 1
    scores = np.zeros((n, width), dtype=np.float32)
    margin = np.full(n, -1, dtype=np.int64)
    for (start, end), found in results:
        index = np.arange(start, end)
        left = index - start if start > 0 else np.full(end - start, n)
        right = end - 1 - index if end < n else np.full(end - start, n)
        here = np.minimum(left, right)
        better = here > margin[start:end]
        scores[start:end][better] = found[better]
        margin[start:end][better] = here[better]
    return scores


def best_path(scores: np.ndarray, names: tuple[str, ...]) -> list[int]:
    """The best label sequence that is valid BIO (no I-X after O or after another type): Viterbi."""
    if not len(scores):
        return []
    inside = np.array([n.startswith("I-") for n in names])
    kinds = [n[2:] for n in names]
    allowed = np.array([[not inside[b] or (kinds[a] == kinds[b] and names[a] != "O") for b in range(len(names))]
                        for a in range(len(names))])
    transition = np.where(allowed, 0.0, -np.inf)
    total = scores[0] + np.where(inside, -np.inf, 0.0)
    back = np.zeros(scores.shape, dtype=np.int64)
    for t in range(1, len(scores)):
        candidates = total[:, None] + transition
        back[t] = candidates.argmax(0)
        total = candidates.max(0) + scores[t]
    path = [int(total.argmax())]
    for t in range(len(scores) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def decode(text: str, encoded: Encoded, scores: np.ndarray, names: tuple[str, ...]) -> list[EntitySpan]:
    """Label scores over sub-tokens to character spans of the product's types (other types are dropped)."""
    found: list[EntitySpan | None] = []
    kind, first = "", 0
    path = best_path(scores, names)
    for i, label in enumerate([*path, 0]):
        tag = names[label]
        if kind and not tag.startswith("I-"):
            found.append(_span(text, encoded, first, i - 1, kind, _shares(scores[first:i], names)))
            kind = ""
        if tag.startswith("B-"):
            kind, first = tag[2:], i
    return [s for s in found if s is not None and s.end > s.start]


def _shares(scores: np.ndarray, names: tuple[str, ...]) -> tuple[float, ...]:
    """Mean probability of each product type's B- and I- labels over the sub-tokens, normalised."""
    probabilities = np.exp(scores).mean(axis=0)
    kind_of = {t: k for k, t in TYPES.items()}
    mass = [sum(float(probabilities[j]) for j, n in enumerate(names) if n[2:] == kind_of[t]) for t in ENTITY_TYPES]
    total = sum(mass)
    return tuple(m / total for m in mass) if total > 0 else tuple(1 / len(mass) for _ in mass)


def _span(text: str, encoded: Encoded, first: int, last: int, kind: str,
          shares: tuple[float, ...] | None = None) -> EntitySpan | None:
    """The span of sub-tokens ``first..last``: widened to whole words where a label changed inside one
    ("Mc" + "Donald") and to an abbreviation's last dot ("U.S" + "."), without brackets or commas at its ends."""
    entity_type = TYPES.get(kind)
    if entity_type is None:
        return None
    ids, offsets = encoded.word_ids, encoded.offsets
    while first > 0 and _joined(text, offsets, ids, first - 1):
        first -= 1
    while last + 1 < len(ids) and (_joined(text, offsets, ids, last) or _final_dot(text, offsets, ids, last)):
        last += 1
    while first < last and text[offsets[first][0]:offsets[first][1]] in _EDGE_MARKS:
        first += 1
    while last > first and text[offsets[last][0]:offsets[last][1]] in _EDGE_MARKS:
        last -= 1
    return EntitySpan(offsets[first][0], offsets[last][1], entity_type, shares)


_EDGE_MARKS = frozenset("([{)]},;:\"'\u201c\u201d\u2018\u2019-\u2013\u2014")


def _final_dot(text: str, offsets: list[tuple[int, int]], word_ids: list[int], i: int) -> bool:
    """Whether sub-token ``i + 1`` is the closing dot of the word ``i`` is in ("U.S" + ".")."""
    return word_ids[i] == word_ids[i + 1] and text[offsets[i + 1][0]:offsets[i + 1][1]] == "."


def _joined(text: str, offsets: list[tuple[int, int]], word_ids: list[int], i: int) -> bool:
    """Whether sub-tokens ``i`` and ``i + 1`` are pieces of one alphanumeric run ("mc" + "##donald")."""
    end, start = offsets[i][1], offsets[i + 1][0]
    return (word_ids[i] == word_ids[i + 1] and end == start and end > 0
            and text[end - 1].isalnum() and text[start].isalnum())


MODEL_NAME = "ner-minilm"


@lru_cache(maxsize=4)
def load_tagger(threads: int, name: str = MODEL_NAME) -> Tagger:
    """The shipped tagger, once per process and thread count, after its files' checksums are checked."""
    model = shipped_model(name)
    return load_session_tagger(model.path("model.onnx"), model.path("tokenizer.json"), model.settings, threads)


def tagger_version(name: str = MODEL_NAME) -> str:
    """The shipped tagger's name and version, for the enricher's name."""
    return f"{name}@{shipped_model(name).version}"


def load_session_tagger(model: Path, tokenizer_file: Path, settings: dict[str, Any], threads: int) -> Tagger:
    """A tagger over any exported model file and tokenizer (the build script scores fp32 and int8 with it)."""
    try:
        labels, max_length, overlap = tuple(settings["labels"]), int(settings["max_length"]), int(settings["overlap"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the entity tagger {model} has no usable labels, max_length and overlap in its manifest "
                          f"({exc}); reinstall broadsheet") from exc
    return Tagger(onnx_session(model, threads), load_tokenizer(tokenizer_file), labels, max_length, overlap)
