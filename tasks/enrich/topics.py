"""Topic scores and subtopics of articles, from the vector of their lead and their words.

An article's lead (title plus the first ``topics.max_chars`` characters) is embedded once; the vector is
stored for semantic search and scored here. A taxonomy topic whose ``iptc_code`` is one the shipped head was
trained on (the 17 IPTC top-level topics) is scored by the head (:mod:`broadsheet.tasks.enrich.topic_head`),
from the vector and the words of the whole article (its first 20,000 characters). Any other topic, such as one
a user adds to their TOML, is scored zero-shot: its score is the mean of its description-centroid similarity
and its best example similarity (every text that stands for it, label and description, each example and its
keywords, embedded on its own), turned into a probability by the head's zero-shot calibration. So every score
is a probability in [0, 1] that the topic applies, topics independently of each other (multi-label). The best
``topics.top_k`` are kept, ranked: the first always, the others at or above ``topics.min_score``. Under each
kept IPTC topic the ``topics.subtopics`` nearest IPTC subtopics are kept when their similarity is at least
``topics.subtopic_min_score``. The enricher name records the model, scorer, head and taxonomy versions, so
editing the taxonomy or shipping a new head makes stored scores stale.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from broadsheet.config.records import Article, SubtopicScore, TopicScore
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, TopicSettings
from broadsheet.config.taxonomy import Taxonomy, Topic, load_taxonomy
from broadsheet.tasks.enrich import topic_head
from broadsheet.tasks.enrich.embeddings import embed, embedding_model
from broadsheet.tasks.enrich.topic_head import MODEL_NAME, TopicHead, load_head

SCORER_VERSION = "head2"  # head2: the head reads the article's words too


def taxonomy_for(settings: TopicSettings) -> Taxonomy:
    return load_taxonomy(settings.taxonomy_file or DEFAULT_TOPICS_FILE)


def enricher_name(settings: TopicSettings, taxonomy: Taxonomy) -> str:
    """Names model and its version, scorer, head and taxonomy: what makes scores stale."""
    model = embedding_model(settings.model)
    return (f"embed:{model.name}@{model.version}+{SCORER_VERSION}"
            f"+{MODEL_NAME}:{load_head().version}+taxonomy:{taxonomy.version}")


def is_trained(topic: Topic, head: TopicHead) -> bool:
    """Whether the head scores this topic (else it is scored zero-shot from its description)."""
    return topic.iptc_code in head.codes


@dataclass(frozen=True)
class Prototypes:
    """Per topic: the normalised centroid of its texts, and every text's own vector."""

    centroids: np.ndarray            # (topics, dim)
    texts: np.ndarray                # (texts, dim)
    owner: np.ndarray                # (texts,) topic index of each text


@lru_cache(maxsize=4)
def prototypes(settings: TopicSettings, taxonomy: Taxonomy) -> Prototypes:
    groups = taxonomy.prototypes()
    if not groups:  # every topic is scored by the head
        return Prototypes(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), np.zeros(0, np.int64))
    flat = [text for group in groups for text in group]
    owner = np.array([i for i, group in enumerate(groups) for _ in group])
    vectors = embed(flat, settings)
    centroids = np.vstack([vectors[owner == i].mean(axis=0) for i in range(len(groups))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return Prototypes(centroids, vectors, owner)


def zero_shot_taxonomy(taxonomy: Taxonomy, head: TopicHead) -> Taxonomy:
    """The topics of ``taxonomy`` the head was not trained on (possibly none)."""
    untrained = tuple(t for t in taxonomy.topics if not is_trained(t, head))
    return replace(taxonomy, topics=untrained, version=f"{taxonomy.version}-zero-shot")


def prototype_similarities(vectors: np.ndarray, protos: Prototypes) -> np.ndarray:
    """(articles, topics) similarities: mean of centroid similarity and best single-text similarity."""
    return topic_head.prototype_similarities(vectors, protos.centroids, protos.texts, protos.owner)


def topic_scores(vectors: np.ndarray, texts: list[str], settings: TopicSettings, taxonomy: Taxonomy) -> np.ndarray:
    """(articles, topics) probabilities, in taxonomy order: trained topics by the head (from the lead vectors
    and the articles' ``head_text``), the others zero-shot (from the vectors)."""
    head = load_head()
    scores = np.zeros((len(vectors), len(taxonomy.topics)), dtype=np.float32)
    columns = {code: i for i, code in enumerate(head.codes)}
    trained = [(j, columns[t.iptc_code]) for j, t in enumerate(taxonomy.topics) if t.iptc_code in columns]
    if trained:
        mine, its = zip(*trained, strict=True)
        scores[:, list(mine)] = head.probabilities(vectors, texts)[:, list(its)]
    untrained = [j for j, t in enumerate(taxonomy.topics) if not is_trained(t, head)]
    if untrained:
        similarities = prototype_similarities(vectors, prototypes(settings, zero_shot_taxonomy(taxonomy, head)))
        scores[:, untrained] = head.zero_shot_probabilities(similarities)
    return scores


def article_lead(article: Article, max_chars: int) -> str:
    return f"{article.title or ''}\n{article.text[:max_chars]}".strip()


def rank_topics(row: np.ndarray, taxonomy: Taxonomy, top_k: int, min_score: float) -> tuple[TopicScore, ...]:
    """The best ``top_k`` topics of one score row; the first always, the others if >= ``min_score``."""
    best = [int(i) for i in np.argsort(-row, kind="stable")[:top_k]]
    kept = best[:1] + [i for i in best[1:] if row[i] >= min_score]
    return tuple(TopicScore(taxonomy.topics[i].id, round(float(row[i]), 6), rank)
                 for rank, i in enumerate(kept, 1))


def best_subtopics(similarities: np.ndarray, ranked: tuple[TopicScore, ...], taxonomy: Taxonomy,
                   settings: TopicSettings) -> tuple[SubtopicScore, ...]:
    """Under each ranked IPTC topic, its nearest subtopics (one row of subtopic similarities), best first."""
    subtopics, codes = load_head().subtopics, {t.id: t.iptc_code for t in taxonomy.topics}
    found: list[SubtopicScore] = []
    for topic in ranked:
        code = codes[topic.topic_id]
        under = np.flatnonzero(subtopics.tops == code) if code else np.zeros(0, dtype=np.int64)
        best = under[np.argsort(-similarities[under], kind="stable")][:settings.subtopics]
        kept = [int(i) for i in best if similarities[i] >= settings.subtopic_min_score]
        found += [SubtopicScore(topic.topic_id, subtopics.codes[i], subtopics.labels[i], subtopics.levels[i],
                                subtopics.level2_codes[i], subtopics.level2_labels[i],
                                round(float(similarities[i]), 6), rank) for rank, i in enumerate(kept, 1)]
    return tuple(found)


@dataclass(frozen=True)
class TopicResult:
    """One article's topics (best first) and its subtopics under them."""

    topics: tuple[TopicScore, ...]
    subtopics: tuple[SubtopicScore, ...]


def score_topics(articles: list[Article], settings: TopicSettings, taxonomy: Taxonomy) -> list[TopicResult]:
    """The top topics of each article, best first, and their subtopics, in article order."""
    return embed_and_score(articles, settings, taxonomy)[1]


def embed_and_score(articles: list[Article], settings: TopicSettings,
                    taxonomy: Taxonomy) -> tuple[np.ndarray, list[TopicResult]]:
    """Each article's lead vector (unit length, kept for semantic search), its top topics and subtopics."""
    if not articles:
        return np.zeros((0, 0), dtype=np.float32), []
    vectors = embed([article_lead(a, settings.max_chars) for a in articles], settings)
    texts = [topic_head.head_text(a.title, a.text) for a in articles]
    return vectors, score_vectors(vectors, texts, settings, taxonomy)


def score_vectors(vectors: np.ndarray, texts: list[str], settings: TopicSettings,
                  taxonomy: Taxonomy) -> list[TopicResult]:
    """Topics and subtopics of lead vectors already embedded, with the articles' ``head_text``."""
    scores = topic_scores(vectors, texts, settings, taxonomy)
    near = vectors @ load_head().subtopics.vectors.T if settings.subtopics else np.zeros((len(vectors), 0))
    results = []
    for row, similarities in zip(scores, near, strict=True):
        ranked = rank_topics(row, taxonomy, settings.top_k, settings.min_score)
        subtopics = best_subtopics(similarities, ranked, taxonomy, settings) if settings.subtopics else ()
        results.append(TopicResult(ranked, subtopics))
    return results
