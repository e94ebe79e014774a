"""Topic scores: articles and topic descriptions embedded with a sentence-embedding model.

Every text that stands for a topic (its label and description, each example, its keywords) is
embedded on its own. An article's lead (title plus the first ``topics.max_chars`` characters) is
embedded and compared with all of them: its score for a topic is the mean of the topic's
description-centroid similarity and its best example similarity, so a topic described by a few good
examples is not drowned by its own averaging. Scores are cosine-like, in [-1, 1]; the best
``topics.top_k`` are kept, ranked (multi-label: every kept topic at or above ``topics.min_score``).
Editing the taxonomy changes its version, so stale scores can be found and re-enriched.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from broadsheet.config.records import Article, TopicScore
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, TopicSettings
from broadsheet.config.taxonomy import Taxonomy, load_taxonomy
from broadsheet.tasks.enrich.embeddings import embed, embedding_model

SCORER_VERSION = "proto2"


def taxonomy_for(settings: TopicSettings) -> Taxonomy:
    return load_taxonomy(settings.taxonomy_file or DEFAULT_TOPICS_FILE)


def enricher_name(settings: TopicSettings, taxonomy: Taxonomy) -> str:
    """Names model and its version, scorer and taxonomy: what makes scores stale."""
    model = embedding_model(settings.model)
    return f"embed:{model.name}@{model.version}+{SCORER_VERSION}+taxonomy:{taxonomy.version}"


@dataclass(frozen=True)
class Prototypes:
    """Per topic: the normalised centroid of its texts, and every text's own vector."""

    centroids: np.ndarray            # (topics, dim)
    texts: np.ndarray                # (texts, dim)
    owner: np.ndarray                # (texts,) topic index of each text


@lru_cache(maxsize=4)
def prototypes(settings: TopicSettings, taxonomy: Taxonomy) -> Prototypes:
    groups = taxonomy.prototypes()
    flat = [text for group in groups for text in group]
    owner = np.array([i for i, group in enumerate(groups) for _ in group])
    vectors = embed(flat, settings)
    centroids = np.vstack([vectors[owner == i].mean(axis=0) for i in range(len(groups))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return Prototypes(centroids, vectors, owner)


def topic_scores(vectors: np.ndarray, protos: Prototypes) -> np.ndarray:
    """(articles, topics) scores: mean of centroid similarity and best single-text similarity."""
    centroid = vectors @ protos.centroids.T
    per_text = vectors @ protos.texts.T
    best = np.full_like(centroid, -1.0)
    for topic in range(centroid.shape[1]):
        best[:, topic] = per_text[:, protos.owner == topic].max(axis=1)
    return (centroid + best) / 2


def article_lead(article: Article, max_chars: int) -> str:
    return f"{article.title or ''}\n{article.text[:max_chars]}".strip()


def rank_topics(row: np.ndarray, taxonomy: Taxonomy, top_k: int, min_score: float) -> tuple[TopicScore, ...]:
    """The best ``top_k`` topics of one score row; the first always, the others if >= ``min_score``."""
    best = [int(i) for i in np.argsort(-row)[:top_k]]
    kept = best[:1] + [i for i in best[1:] if row[i] >= min_score]
    return tuple(TopicScore(taxonomy.topics[i].id, round(float(row[i]), 6), rank)
                 for rank, i in enumerate(kept, 1))


def score_topics(articles: list[Article], settings: TopicSettings,
                 taxonomy: Taxonomy) -> list[tuple[TopicScore, ...]]:
    """The top topics of each article, best first, in article order."""
    return embed_and_score(articles, settings, taxonomy)[1]


def embed_and_score(articles: list[Article], settings: TopicSettings,
                    taxonomy: Taxonomy) -> tuple[np.ndarray, list[tuple[TopicScore, ...]]]:
    """Each article's lead vector (unit length, kept for semantic search) and its top topics."""
    if not articles:
        return np.zeros((0, 0), dtype=np.float32), []
    vectors = embed([article_lead(a, settings.max_chars) for a in articles], settings)
    scores = topic_scores(vectors, prototypes(settings, taxonomy))
    return vectors, [rank_topics(row, taxonomy, settings.top_k, settings.min_score) for row in scores]
