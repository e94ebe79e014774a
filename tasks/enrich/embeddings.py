"""Sentence embeddings: the one ``embed`` that topic scoring and semantic search share.

The model is a shipped ONNX export of all-MiniLM-L6-v2 with int8 weights (``models/minilm-l6-int8``; its
model card says how it was built and how closely it agrees with the original), run by ONNX Runtime. ``embed``
does what sentence-transformers does for this model: tokenize, truncated to the model's
``max_seq_length``, mean-pool the token vectors over the attention mask, L2-normalise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from broadsheet.config.settings import TopicSettings
from broadsheet.models import MODELS_DIR, ShippedModel, load_tokenizer, onnx_session, shipped_model


def embedding_model(model: str) -> ShippedModel:
    """``topics.model``: the name of a shipped model, or a folder built the same way (with a manifest)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return shipped_model(path.resolve().name, path.resolve().parent)
    return shipped_model(model, MODELS_DIR)


def embed(texts: list[str], settings: TopicSettings) -> np.ndarray:
    """One unit-length float32 vector per text, in order."""
    return load_encoder(settings.model, settings.threads).encode(texts)


@dataclass(frozen=True)
class OnnxEncoder:
    """An ONNX Runtime session of the transformer, its tokenizer, and the inputs the session takes."""

    session: Any
    tokenizer: Any
    inputs: tuple[str, ...]
    dimensions: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """One session run per text: as fast on these CPUs as padded batches, without their memory."""
        rows = [self._pool(encoding) for encoding in self.tokenizer.encode_batch(texts)]
        return np.stack(rows) if rows else np.zeros((0, self.dimensions), dtype=np.float32)

    def _pool(self, encoding: Any) -> np.ndarray:
        """Mean of the token vectors under the attention mask, L2-normalised (sentence-transformers' math)."""
        feed = {"input_ids": np.asarray([encoding.ids], dtype=np.int64),
                "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
                "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64)}
        hidden = self.session.run(None, {name: feed[name] for name in self.inputs})[0][0]
        mask = feed["attention_mask"][0][:, None].astype(np.float32)
        mean = (hidden * mask).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def load_encoder(model: str, threads: int) -> OnnxEncoder:
    """The encoder of ``model``, once per process."""
    shipped = embedding_model(model)
    session = onnx_session(shipped.path("model.onnx"), threads)
    tokenizer = load_tokenizer(shipped.path("tokenizer.json"))
    tokenizer.enable_truncation(max_length=int(shipped.settings["max_seq_length"]))
    inputs = tuple(i.name for i in session.get_inputs())
    return OnnxEncoder(session, tokenizer, inputs, int(shipped.settings.get("dimensions", 384)))
