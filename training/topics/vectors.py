"""Embedding the training and development texts once, with the product's exact recipe, cached on disk.

A text's vector is what the topic stage stores for an article: ``tasks.topics.article_lead`` of its title
and text, embedded by ``tasks.embeddings.embed`` with the given topic settings (``onnx-int8`` by default).
Vectors are cached in ``--cache`` (outside the repository) under a hash of the texts and the settings, so
a second run of the training script embeds nothing.
"""

from __future__ import annotations

import hashlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from topic_data import Example

from broadsheet.config.records import Article
from broadsheet.config.settings import TopicSettings
from broadsheet.tasks.enrich.embeddings import embed
from broadsheet.tasks.enrich.topics import article_lead

CHUNK = 256


def lead(example: Example, max_chars: int) -> str:
    article = Article("x", "", "", "train", example.title, (), None, "en", None, example.text, "",
                      datetime(2026, 1, 1, tzinfo=UTC), "train")
    return article_lead(article, max_chars)


def cached_vectors(examples: list[Example], settings: TopicSettings, cache: Path, name: str) -> np.ndarray:
    """(examples, dim) unit vectors of the examples' leads, from the cache when the same texts were embedded."""
    texts = [lead(e, settings.max_chars) for e in examples]
    key = hashlib.sha256("\x00".join([settings.model, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{name}-{settings.model}-{settings.max_chars}-{key}.npy"
    if path.is_file():
        return np.load(path)
    cache.mkdir(parents=True, exist_ok=True)
    began, parts = time.perf_counter(), []
    for start in range(0, len(texts), CHUNK):
        parts.append(embed(texts[start:start + CHUNK], settings))
        print(f"  {name}: {start + len(parts[-1])}/{len(texts)} in {time.perf_counter() - began:.0f} s",
              file=sys.stderr, flush=True)
    vectors = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, 384), np.float32)
    np.save(path, vectors)
    return vectors
