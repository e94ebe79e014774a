"""Named-entity quality on CoNLL-2003 dev and CrossNER politics dev: broadsheet beside raw spaCy, in one run.

    python benchmarks/quality_ner.py [--conll FILE] [--crossner FILE] [--limit N] [--errors N] [--results FILE]

Each document (a CoNLL ``-DOCSTART-`` block, or one CrossNER sentence) is rebuilt as text: tokens joined
by spaces, sentences by newlines. *raw spaCy* is ``entities.spacy_model`` as it comes, its labels mapped
PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC; *learned tagger, raw* is the shipped tagger's spans as they come.
*broadsheet, <model>* is ``tag_entities`` with ``entities.model`` set so (gazetteer, rules and in-article
resolution), each mention typed by its resolved entity: person→PER, organization→ORG, place→LOC.
Scores follow ../shared/eval/README.md: exact span match per type, micro F1 over PER/ORG/LOC; for
CrossNER, gold politician/person→PER, organisation/politicalparty→ORG, country/location→LOC, and a
prediction inside a gold span of another type (election, event, misc ...) is ignored. Nothing here
trains on the data. The table is printed and appended to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broadsheet.config.records import Article
from broadsheet.config.settings import apply_process_environment, load_settings
from broadsheet.tasks.enrich.entities import tag_entities
from broadsheet.tasks.enrich.tagger import Tagger, load_tagger

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, append_section, markdown_table

TYPES = ("PER", "ORG", "LOC")
SPACY_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
OURS_MAP = {"person": "PER", "organization": "ORG", "place": "LOC"}
CROSSNER_MAP = {"politician": "PER", "person": "PER", "organisation": "ORG", "politicalparty": "ORG",
                "country": "LOC", "location": "LOC"}
Span = tuple[int, int, str]  # start char, end char, type


@dataclass
class Document:
    text: str
    gold: set[Span]
    other: list[tuple[int, int]] = field(default_factory=list)  # gold spans of types not scored


def _spans_from_tags(tokens: list[tuple[int, int, str]], mapping: dict[str, str] | None,
                     ) -> tuple[set[Span], list[tuple[int, int]]]:
    """Spans of IOB1/IOB2 tags over tokens given as (start, end, tag); unmapped types go to ``other``."""
    spans: list[list] = []
    for start, end, tag in tokens:
        if tag == "O":
            continue
        prefix, kind = tag.split("-", 1)
        if spans and spans[-1][2] == kind and spans[-1][1] == start - 1 and prefix == "I":
            spans[-1][1] = end
        else:
            spans.append([start, end, kind])
    gold, other = set(), []
    for start, end, kind in spans:
        mapped = mapping.get(kind) if mapping is not None else kind
        if mapped in TYPES:
            gold.add((start, end, mapped))
        elif mapped is None or mapped not in ("MISC",):
            other.append((start, end))
    return gold, other


def _document(sentences: list[list[tuple[str, str]]], mapping: dict[str, str] | None) -> Document:
    text, tokens = "", []
    for sentence in sentences:
        for i, (token, tag) in enumerate(sentence):
            if i:
                text += " "
            tokens.append((len(text), len(text) + len(token), tag))
            text += token
        text += "\n"
    gold, other = _spans_from_tags(tokens, mapping)
    return Document(text, gold, other)


def read_conll(path: Path) -> list[Document]:
    documents, sentences, sentence = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "-DOCSTART- -X- -X- O"]:
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if sentence:
                sentences.append(sentence)
                sentence = []
            if parts and sentences:
                documents.append(_document(sentences, None))
                sentences = []
            continue
        sentence.append((parts[0], parts[-1]))
    return documents


def read_crossner(path: Path) -> list[Document]:
    documents, sentence = [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if sentence:
                documents.append(_document([sentence], CROSSNER_MAP))
                sentence = []
            continue
        token, tag = line.rsplit("\t", 1)
        sentence.append((token, tag))
    return documents


def raw_pipeline(model: str) -> Any:
    """The spaCy pipeline as it comes: no ruler (what the product's entities stage adds to it)."""
    import spacy

    return spacy.load(model, exclude=["parser", "lemmatizer", "senter"])


def predict_raw(documents: list[Document], model: str) -> list[set[Span]]:
    nlp = raw_pipeline(model)
    return [{(e.start_char, e.end_char, SPACY_MAP[e.label_]) for e in doc.ents if e.label_ in SPACY_MAP}
            for doc in nlp.pipe([d.text for d in documents], batch_size=32)]


def predict_tagger(documents: list[Document], tagger: Tagger) -> list[set[Span]]:
    """The learned tagger's spans as they come (no rules, no resolution)."""
    found = tagger.tag_many([d.text for d in documents])
    return [{(s.start, s.end, OURS_MAP[s.type]) for s in spans} for spans in found]


def predict_ours(documents: list[Document], model: str = "ner-minilm") -> list[set[Span]]:
    settings = load_settings().entities.model_copy(update={"model": model})
    now = datetime.now(UTC)
    articles = [Article(str(i), "", "", "eval", None, (), None, "en", None, d.text, "", now, "eval")
                for i, d in enumerate(documents)]
    found = []
    for entities, mentions, _ in tag_entities(articles, settings):
        types = {e.entity_id: OURS_MAP[e.entity_type] for e in entities}
        found.append({(m.start_char, m.end_char, types[m.entity_id]) for m in mentions if not m.in_title})
    return found


def _ignored(span: Span, document: Document) -> bool:
    start, end, _ = span
    return any(o_start <= start and end <= o_end for o_start, o_end in document.other)


def score(documents: list[Document], predicted: list[set[Span]]) -> dict[str, tuple[int, int, int]]:
    """tp, fp, fn per type (and "micro")."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in TYPES}
    for document, found in zip(documents, predicted, strict=True):
        found = {s for s in found if s in document.gold or not _ignored(s, document)}
        for kind in TYPES:
            gold_k = {s for s in document.gold if s[2] == kind}
            found_k = {s for s in found if s[2] == kind}
            counts[kind].update(tp=len(gold_k & found_k), fp=len(found_k - gold_k), fn=len(gold_k - found_k))
    result = {t: (c["tp"], c["fp"], c["fn"]) for t, c in counts.items()}
    result["micro"] = tuple(sum(result[t][i] for t in TYPES) for i in range(3))  # type: ignore[assignment]
    return result


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def show_errors(documents: list[Document], predicted: list[set[Span]], limit: int) -> None:
    errors: Counter[str] = Counter()
    for document, found in zip(documents, predicted, strict=True):
        for s in found - document.gold:
            if not _ignored(s, document):
                gold_type = next((g[2] for g in document.gold if g[:2] == s[:2]), "-")
                errors[f"FP {document.text[s[0]:s[1]]!r} {s[2]} (gold {gold_type})"] += 1
        for s in document.gold - found:
            errors[f"FN {document.text[s[0]:s[1]]!r} {s[2]}"] += 1
    for line, count in errors.most_common(limit):
        print(f"{count:4d}  {line}")


def systems(documents: list[Document], spacy_model: str, threads: int) -> dict[str, Callable[[], list[set[Span]]]]:
    """Today's spaCy path beside the learned tagger, each raw and through the product (rules, resolution)."""
    return {"raw spaCy": lambda: predict_raw(documents, spacy_model),
            "broadsheet, spacy": lambda: predict_ours(documents, "spacy"),
            "learned tagger, raw": lambda: predict_tagger(documents, load_tagger(threads)),
            "broadsheet, ner-minilm": lambda: predict_ours(documents, "ner-minilm")}


def evaluate(name: str, documents: list[Document], spacy_model: str, errors: int, threads: int,
             ) -> list[list[str]]:
    rows = []
    for system, predict in systems(documents, spacy_model, threads).items():
        start = time.perf_counter()
        predicted = predict()
        seconds = time.perf_counter() - start
        scores = score(documents, predicted)
        rows.append([name, system, *(f"{f1(*scores[t]):.3f}" for t in (*TYPES, "micro")), f"{seconds:.1f}"])
        print(" | ".join(rows[-1]), flush=True)
        if errors and system.startswith("broadsheet"):
            show_errors(documents, predicted, errors)
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conll", type=Path, default=EVAL / "conll2003" / "eng.testa")
    parser.add_argument("--crossner", type=Path, default=EVAL / "crossner-politics" / "dev.txt")
    parser.add_argument("--limit", type=int, default=None, help="Documents per set at most.")
    parser.add_argument("--errors", type=int, default=0, help="Print the N most frequent errors of ours.")
    parser.add_argument("--results", type=Path, default=None, help="Results file (default benchmarks/RESULTS.md).")
    parser.add_argument("--no-record", action="store_true", help="Print only; do not append to RESULTS.md.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    apply_process_environment(quiet=True)
    settings = load_settings().entities
    model = settings.spacy_model
    rows = []
    for name, path, reader in (("CoNLL-2003 dev", args.conll, read_conll),
                               ("CrossNER politics dev", args.crossner, read_crossner)):
        if not path.is_file():
            sys.exit(f"error: {path} not found; pass --conll/--crossner (eval data lives in <repo>/../shared/eval)")
        rows += evaluate(name, reader(path)[: args.limit], model, args.errors, settings.threads)
    table = markdown_table(["set", "system", "PER F1", "ORG F1", "LOC F1", "micro F1", "seconds"], rows)
    print(table)
    if not args.no_record:
        facts = {"entities.spacy_model": model, "entities.threads": settings.threads,
                 "documents": "all" if args.limit is None else f"first {args.limit}"}
        append_section("NER quality (benchmarks/quality_ner.py)", facts, table,
                       *([args.results] if args.results else []))


if __name__ == "__main__":
    main()
