"""The trained topic head: calibrated probabilities of the IPTC topics, and subtopics, from an article's vector.

The head is shipped in ``models/topic-head`` (built by ``training/topics/train.py``, see its model card).
It reads the unit vector the topic stage already computes, and the article's words: no model runs, only
one small matrix product per batch and a word count per article. For each trained IPTC topic it holds a
one-vs-rest logistic regression over the vector, the vector's similarity to the topics' prototypes and the
tf-idf of the article's words (title and text, over the head's fixed vocabulary), and a calibration (a
sigmoid of the regression's score): the result is the probability that the topic applies, each topic on
its own (multi-label), as if every topic were equally common. The lead vector sees the first 256 tokens;
the words see the whole article (up to ``WORDS_CHARS``), which is most of what they add. A topic it was
not trained on (one a user adds to the taxonomy) is scored zero-shot: its description-and-examples
similarity goes through one calibration fitted on the trained topics' similarities, so both kinds of
score read as probabilities. Subtopics are the IPTC Media Topics below a top-level topic, each a unit
vector of its name and definition; an article's subtopics are the nearest of those under its topics.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from broadsheet.models import shipped_model

MODEL_NAME = "topic-head"
WEIGHTS_FILE = "head.npz"
# The words of a text, as scikit-learn's TfidfVectorizer finds them by default (lowercased, two or more
# word characters): the head's vocabulary was built with that recipe, so its counts must be made the same way.
WORD = re.compile(r"(?u)\b\w\w+\b")
WORDS_CHARS = 20_000  # characters of an article's text whose words are counted (a bound on very long texts)


def head_text(title: str | None, text: str) -> str:
    """What the head reads words from: the title and the first ``WORDS_CHARS`` characters of the text."""
    return f"{title or ''}\n{text[:WORDS_CHARS]}"


@dataclass(frozen=True)
class Lexicon:
    """A fixed vocabulary with each word's idf and its weight for each topic."""

    index: dict[str, int]        # word -> column
    idf: np.ndarray              # (words,)
    weights: np.ndarray          # (topics, words)

    def scores(self, texts: list[str]) -> np.ndarray:
        """(texts, topics): each text's L2-normalised, sublinear tf-idf times the word weights."""
        out = np.zeros((len(texts), self.weights.shape[0]), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(w for w in WORD.findall(text.lower()) if w in self.index)
            if not counts:
                continue
            columns = np.fromiter((self.index[w] for w in counts), dtype=np.int64, count=len(counts))
            values = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=np.float32,
                                 count=len(counts)) * self.idf[columns]
            out[row] = self.weights[:, columns] @ (values / np.linalg.norm(values))
        return out


@dataclass(frozen=True)
class Subtopics:
    """The IPTC subtopics (levels 2-6) in force: unit vectors and what each one is."""

    vectors: np.ndarray          # (subtopics, dim)
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    levels: tuple[int, ...]
    tops: np.ndarray             # (subtopics,) the top-level IPTC code of each
    level2_codes: tuple[str, ...]
    level2_labels: tuple[str, ...]


@dataclass(frozen=True)
class TopicHead:
    version: str
    codes: tuple[str, ...]       # the IPTC top-level codes it was trained on, in column order
    centroids: np.ndarray        # (topics, dim) the default taxonomy's description centroids, as trained
    texts: np.ndarray            # (texts, dim) and each of its texts' vectors
    owner: np.ndarray            # (texts,) topic index of each text
    weights: np.ndarray          # (topics, dim + topics): over the vector and its prototype similarities
    bias: np.ndarray             # (topics,)
    calibration: np.ndarray      # (topics, 2): slope and intercept of each topic's sigmoid
    zero_shot: np.ndarray        # (2,): slope and intercept for a prototype similarity
    subtopics: Subtopics
    lexicon: Lexicon

    def features(self, vectors: np.ndarray) -> np.ndarray:
        """The vectors, each followed by its similarity to the topics' prototypes (the former zero-shot scores)."""
        return np.hstack([vectors, prototype_similarities(vectors, self.centroids, self.texts, self.owner)])

    def probabilities(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """(articles, topics) calibrated probabilities, in ``codes`` order, of lead vectors and ``head_text``s."""
        if len(texts) != len(vectors):
            raise ValueError(f"the head needs one text per vector: {len(texts)} texts, {len(vectors)} vectors")
        raw = self.features(vectors) @ self.weights.T + self.lexicon.scores(texts) + self.bias
        return sigmoid(raw * self.calibration[:, 0] + self.calibration[:, 1])

    def zero_shot_probabilities(self, similarities: np.ndarray) -> np.ndarray:
        """Probabilities of prototype similarities (any shape), by the calibration fitted on trained topics."""
        return sigmoid(similarities * self.zero_shot[0] + self.zero_shot[1])


def prototype_similarities(vectors: np.ndarray, centroids: np.ndarray, texts: np.ndarray,
                           owner: np.ndarray) -> np.ndarray:
    """(articles, topics): mean of each topic's centroid similarity and its best single-text similarity."""
    centroid = vectors @ centroids.T
    per_text = vectors @ texts.T
    best = np.full_like(centroid, -1.0)
    for topic in range(centroid.shape[1]):
        best[:, topic] = per_text[:, owner == topic].max(axis=1)
    return (centroid + best) / 2


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


@lru_cache(maxsize=1)
def load_head() -> TopicHead:
    """The shipped head, once per process (its files checked against the manifest)."""
    model = shipped_model(MODEL_NAME)
    with np.load(model.path(WEIGHTS_FILE), allow_pickle=False) as data:
        subtopics = Subtopics(
            data["sub_vectors"].astype(np.float32), tuple(data["sub_codes"].tolist()),
            tuple(data["sub_labels"].tolist()), tuple(int(n) for n in data["sub_levels"]),
            data["sub_tops"].astype(str), tuple(data["sub_level2_codes"].tolist()),
            tuple(data["sub_level2_labels"].tolist()))
        words = data["words"].tolist()
        lexicon = Lexicon({w: i for i, w in enumerate(words)}, data["idf"].astype(np.float32),
                          data["word_weights"].astype(np.float32))
        return TopicHead(model.version, tuple(data["codes"].tolist()), data["centroids"].astype(np.float32),
                         data["texts"].astype(np.float32), data["owner"].astype(np.int64),
                         data["weights"].astype(np.float32),
                         data["bias"].astype(np.float32), data["calibration"].astype(np.float32),
                         data["zero_shot"].astype(np.float32), subtopics, lexicon)
