"""Near-duplicate detection: MinHash signatures, LSH band keys, and cluster assignment.

Syndicated wire copies and lightly edited reposts share most of their word 5-grams ("shingles").
A MinHash signature of 128 values estimates the Jaccard similarity of two articles' shingle sets:
the fraction of equal positions. Signatures are cut into 32 bands of 4 values; two articles that
share a band's key are candidates, and a candidate is a near duplicate when its estimated
similarity reaches the threshold (band keys make the lookup one indexed scan, not a comparison with
every stored article).

:func:`assign_clusters` decides, article by article in the order loaded, which story cluster each
joins: the cluster of an earlier version of the same canonical URL (a revision), of the same text
elsewhere (an exact duplicate), of its most similar candidate (a near duplicate), or a new cluster
of its own. Everything here is pure: what the warehouse already knows comes in as :class:`Member`s.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

PERMUTATIONS = 128
BANDS = 32
ROWS_PER_BAND = PERMUTATIONS // BANDS
_PRIME = (1 << 31) - 1  # Mersenne prime: a * x + b stays below 2**63 for 31-bit a, b and x
_RNG = np.random.default_rng(20260201)  # fixed: signatures must agree across runs and machines
_A = _RNG.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)

MatchKind = Literal["original", "revision", "exact", "near"]


def shingles(text: str, size: int = 5) -> set[int]:
    """31-bit hashes of the text's lower-cased word ``size``-grams (the whole text if shorter)."""
    words = _WORD.findall(text.lower())
    grams = [" ".join(words[i:i + size]) for i in range(max(1, len(words) - size + 1))]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little") & _PRIME
            for g in grams if g}


def minhash(text: str, shingle_words: int = 5) -> tuple[int, ...]:
    """The MinHash signature of ``text``: PERMUTATIONS values below 2**31."""
    hashed = np.fromiter(shingles(text, shingle_words), dtype=np.uint64)
    if hashed.size == 0:
        return (int(_PRIME),) * PERMUTATIONS
    values = (np.outer(_A, hashed) + _B[:, None]) % _PRIME
    return tuple(int(v) for v in values.min(axis=1))


def band_keys(signature: tuple[int, ...]) -> tuple[int, ...]:
    """One signed 32-bit key per band: equal band values give equal keys; a key shared by chance only adds a
    candidate, compared by its whole signature. The first 4 bytes of an 8-byte digest (the keys of migration
    0013, which kept the low half of the 64-bit keys stored before)."""
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS_PER_BAND:(band + 1) * ROWS_PER_BAND]
        digest = hashlib.blake2b(f"{band}:{rows}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest[:4], "little", signed=True))
    return tuple(keys)


def similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two signatures' shingle sets."""
    return sum(a == b for a, b in zip(first, second, strict=True)) / PERMUTATIONS


@dataclass(frozen=True)
class Member:
    """An article already clustered (in the warehouse or earlier in the batch). ``content_hash`` is any string
    equal exactly when the texts are (the warehouse passes its 64-bit key of the content hash)."""

    article_id: str
    cluster_id: str
    canonical_url: str
    content_hash: str
    minhash: tuple[int, ...]


@dataclass(frozen=True)
class NewArticle:
    """What clustering needs of an article being loaded."""

    article_id: str
    canonical_url: str
    content_hash: str
    text: str


@dataclass(frozen=True)
class Assignment:
    """The cluster an article joins, why, and the member that decided it."""

    article_id: str
    cluster_id: str
    match_kind: MatchKind
    similarity: float
    matched_article_id: str | None
    minhash: tuple[int, ...]
    band_keys: tuple[int, ...]


# What the warehouse already holds: the clustered articles that share a canonical URL, a content hash or a
# MinHash band key with the new ones (arguments in that order), those by URL first, then by hash, then by
# band key, each oldest first (the order decides ties).
FindMembers = Callable[[list[str], list[str], list[int]], list[Member]]


def assign_clusters(articles: Iterable[NewArticle], known: FindMembers, threshold: float,
                    shingle_words: int = 5) -> list[Assignment]:
    """The cluster of each article, in order; each one joins the pool the next are compared with."""
    pending = list(articles)
    signatures = {a.article_id: minhash(a.text, shingle_words) for a in pending}
    keys = {a.article_id: band_keys(signatures[a.article_id]) for a in pending}
    pool = _Pool()
    found = known([a.canonical_url for a in pending], [a.content_hash for a in pending],
                  sorted({k for ks in keys.values() for k in ks}))
    for member in found:
        pool.add(member, band_keys(member.minhash))
    assigned = []
    for article in pending:
        signature, own_keys = signatures[article.article_id], keys[article.article_id]
        chosen = pool.best_match(article, signature, own_keys, threshold)
        cluster, kind, score, matched = chosen or (article.article_id, "original", 1.0, None)
        assigned.append(Assignment(article.article_id, cluster, kind, score, matched, signature, own_keys))
        pool.add(Member(article.article_id, cluster, article.canonical_url, article.content_hash, signature), own_keys)
    return assigned


# Near-duplicate candidates per band key: the latest this many members sharing it. A story syndicated
# thousands of times would otherwise make every new copy compare with every earlier one (and the load
# read them all); its latest copies are enough to find its cluster. The warehouse's lookup applies the
# same bound (``clustered_ids_by_band.sql``).
CANDIDATES_PER_BAND = 20


class _Pool:
    """Members indexed by canonical URL, content hash and band key, in the order they were added."""

    def __init__(self) -> None:
        self.order: dict[str, int] = {}  # article id: position, earlier first
        self.by_url: dict[str, list[Member]] = {}
        self.by_hash: dict[str, list[Member]] = {}
        self.by_key: dict[int, deque[Member]] = {}

    def add(self, member: Member, keys: Iterable[int]) -> None:
        if member.article_id in self.order:
            return
        self.order[member.article_id] = len(self.order)
        self.by_url.setdefault(member.canonical_url, []).append(member)
        self.by_hash.setdefault(member.content_hash, []).append(member)
        for key in keys:
            self.by_key.setdefault(key, deque(maxlen=CANDIDATES_PER_BAND)).append(member)

    def best_match(self, article: NewArticle, signature: tuple[int, ...], own_keys: tuple[int, ...],
                   threshold: float) -> tuple[str, MatchKind, float, str] | None:
        """Revision first (same URL, other text), then exact copy, then the most similar near duplicate."""
        for member in reversed(self.by_url.get(article.canonical_url, [])):  # the latest version of the URL
            if member.article_id != article.article_id and member.content_hash != article.content_hash:
                return member.cluster_id, "revision", similarity(signature, member.minhash), member.article_id
        for member in self.by_hash.get(article.content_hash, []):
            if member.article_id != article.article_id:
                return member.cluster_id, "exact", 1.0, member.article_id
        candidates = {m.article_id: m for key in own_keys for m in self.by_key.get(key, ())
                      if m.article_id != article.article_id}
        ranked = sorted(candidates.values(), key=lambda m: self.order[m.article_id])  # ties go to the earliest
        best = max(((similarity(signature, m.minhash), m) for m in ranked), key=lambda pair: pair[0], default=None)
        if best is not None and best[0] >= threshold:
            return best[1].cluster_id, "near", best[0], best[1].article_id
        return None
