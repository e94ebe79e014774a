"""Reading the NER training and development sets, and turning them into the model's inputs.

Every reader yields documents as lists of sentences, each sentence a list of ``(word, tag)`` with BIO tags
over the labels the model learns (``LABELS``); a tag of ``None`` marks a word inside a span of a type the
product does not tag (CrossNER's "election", "award", ...), which is left out of the loss and, on dev, of
the scoring. Sentences of a document are packed into chunks of at most ``max_length`` sub-tokens, as the
runtime cuts an article into windows. The casing ids come from ``broadsheet.tasks.tagger`` so training and
run time compute them the same way.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from broadsheet.tasks.tagger import case_id

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
LABEL_ID = {label: i for i, label in enumerate(LABELS)}
IGNORE = -100

CROSSNER_TYPES = {
    "person": "PER", "politician": "PER", "researcher": "PER", "writer": "PER", "musicalartist": "PER",
    "scientist": "PER",
    "organisation": "ORG", "politicalparty": "ORG", "university": "ORG", "band": "ORG", "company": "ORG",
    "country": "LOC", "location": "LOC", "city": "LOC",
    "misc": "MISC",
}
WNUT_TYPES = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG"}

Tagged = list[tuple[str, str | None]]


def read_conll(path: Path) -> list[list[Tagged]]:
    """CoNLL-2003 or WikiGold (IOB1, ``-DOCSTART-`` between documents) as documents of BIO sentences."""
    docs: list[list[Tagged]] = [[]]
    sentence: list[tuple[str, str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if sentence:
                docs[-1].append(iob1_to_bio(sentence))
                sentence = []
            if parts and docs[-1]:
                docs.append([])
            continue
        sentence.append((parts[0], parts[-1]))
    return [d for d in docs if d]


def iob1_to_bio(sentence: list[tuple[str, str]]) -> Tagged:
    out: Tagged = []
    previous = "O"
    for word, tag in sentence:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append((word, tag))
        previous = tag
    return out


def read_bio(path: Path, types: dict[str, str]) -> list[list[Tagged]]:
    """A ``token<TAB>BIO-tag`` file (CrossNER, WNUT) as one document of sentences, types mapped."""
    sentences: list[Tagged] = []
    sentence: Tagged = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip():
            if sentence:
                sentences.append(sentence)
                sentence = []
            continue
        sentence.append((parts[0].strip(), map_tag(parts[-1].strip(), types)))
    return [sentences]


def map_tag(tag: str, types: dict[str, str]) -> str | None:
    if tag == "O" or not tag:
        return "O"
    prefix, kind = tag.split("-", 1)
    mapped = types.get(kind)
    return f"{prefix}-{mapped}" if mapped else None


@dataclass
class Chunk:
    """One model input: sub-token ids, casing ids, label ids, and each sub-token's word index."""

    ids: list[int]
    cases: list[int]
    labels: list[int]
    word_ids: list[int]
    words: Tagged


def encode_sentence(tokenizer, sentence: Tagged) -> tuple[list[int], list[int], list[int], list[int]]:
    """Sub-tokens of a sentence (no special tokens) with casing, label (every sub-token) and word index."""
    encoding = tokenizer.encode([w for w, _ in sentence], is_pretokenized=True, add_special_tokens=False)
    ids, cases, labels, word_ids = [], [], [], []
    previous = -1
    for token_id, word_index, (start, end) in zip(encoding.ids, encoding.word_ids, encoding.offsets, strict=True):
        word, tag = sentence[word_index]
        continued = word_index == previous
        previous = word_index
        ids.append(token_id)
        cases.append(case_id(word[start:end], continued))
        if tag is None:
            labels.append(IGNORE)
        elif continued and tag.startswith("B-"):
            labels.append(LABEL_ID["I-" + tag[2:]])
        else:
            labels.append(LABEL_ID[tag])
        word_ids.append(word_index)
    return ids, cases, labels, word_ids


def chunks(tokenizer, docs: list[list[Tagged]], budget: int, rng: random.Random | None) -> Iterator[Chunk]:
    """Consecutive sentences of each document packed into chunks of at most ``budget`` sub-tokens.

    With ``rng`` each chunk's budget is drawn between a quarter of it and all of it, so the model also sees
    short texts (titles, captions); without, chunks are as full as the budget allows (dev scoring).
    """
    for doc in docs:
        current = Chunk([], [], [], [], [])
        limit = _limit(budget, rng)
        for sentence in doc:
            ids, cases, labels, word_ids = encode_sentence(tokenizer, sentence)
            if len(ids) > budget:
                ids, cases, labels, word_ids = ids[:budget], cases[:budget], labels[:budget], word_ids[:budget]
            if current.ids and len(current.ids) + len(ids) > limit:
                yield current
                current = Chunk([], [], [], [], [])
                limit = _limit(budget, rng)
            offset = len(current.words)
            current.ids += ids
            current.cases += cases
            current.labels += labels
            current.word_ids += [offset + w for w in word_ids]
            current.words += sentence
        if current.ids:
            yield current


def _limit(budget: int, rng: random.Random | None) -> int:
    return budget if rng is None else rng.randint(budget // 4, budget)
