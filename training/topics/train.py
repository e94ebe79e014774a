"""Train broadsheet's topic head and write ``models/topic-head`` (weights, manifest; the card is edited by hand).

    python training/topics/train.py [--train ../shared/eval/train] [--bbc ../shared/eval/bbc-news]
                                    [--cache /work/cache-topics] [--out models/topic-head] [--seed 0]

Needs the ``train`` extra (scikit-learn) besides broadsheet itself. Every text is embedded once with the
product's settings (``topics.model``, ``topics.max_chars``; see ``vectors.py``) and cached outside the
repository. The head is one logistic regression per IPTC top-level topic (one-vs-rest) over the lead vector,
its similarities to the default taxonomy's prototypes (the descriptions and examples of topics.toml, embedded
here and shipped with the weights) and the tf-idf of the text's words (vocabulary and idf from the training
texts, shipped too; ``topic_head.Lexicon`` computes the same in the product), class-balanced, each example
weighted by its set (``SOURCE_WEIGHTS``). HuffPost's U.S. and world news, which no one topic fits, are
labelled by those prototypes where they are clearly one topic (weak labels: most are disaster, health,
conflict, crime). The scores are calibrated by one sigmoid fitted on the out-of-fold scores of every topic (5
folds) with positives weighted to one in 17, so a probability reads "as if every topic were equally common";
the same out-of-fold predictions give the HuffPost cross-validation. One more sigmoid maps a prototype
similarity to a probability, for topics the head was not trained on. IPTC subtopics (levels 2-6, in force) are
shipped as the vectors of their names and definitions. BBC News is scored, never trained on.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import topic_data as data
from evaluate import bbc_report, calibration_table, huffpost_cv
from vectors import cached_vectors

from broadsheet.config.settings import DEFAULT_TOPICS_FILE, load_settings
from broadsheet.config.taxonomy import load_taxonomy
from broadsheet.models import file_sha256, write_manifest
from broadsheet.tasks.enrich.embeddings import embed
from broadsheet.tasks.enrich.topic_head import WORD, Lexicon, head_text, prototype_similarities, sigmoid

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO.parent / "shared" / "eval"
C = 0.3                       # inverse regularisation of every regression
FOLDS = 5
PRIOR = 1 / len(data.TOP_LEVEL)  # share of positives the calibration assumes
# Full BBC-style articles (MasakhaNEWS) are closest to what the pipeline reads; headlines least.
SOURCE_WEIGHTS = {"masakhanews": 8.0, "huffpost": 0.5, "inshorts": 0.3, "reuters": 1.0, "iptc": 1.0,
                  "taxonomy": 1.0, "huffpost-weak": 1.0}
# HuffPost's U.S. and world news get the prototypes' topic as a weak label when it is clear: a similarity of
# at least WEAK_SIMILARITY, WEAK_MARGIN above the next topic's (real news on disaster, conflict, crime, weather).
WEAK_SIMILARITY, WEAK_MARGIN = 0.3, 0.05
# The words: tf-idf (sublinear, L2-normalised) of each text's title and text over the words in at least
# WORDS_MIN_DF training texts (the WORDS_MAX most frequent), English stop words left out; scaled by
# WORDS_SCALE beside the 401 vector features. BBC macro F1 of the regressions' top topic: 0.921 without
# words, 0.934 with (scale 3: 0.929; 30,000 words: 0.934; word pairs too: 0.936).
WORDS_MIN_DF, WORDS_MAX, WORDS_SCALE = 3, 15_000, 2.0
VERSION_PREFIX = "2"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, default=EVAL / "train")
    parser.add_argument("--bbc", type=Path, default=EVAL / "bbc-news")
    parser.add_argument("--cache", type=Path, default=Path("/work/cache-topics"))
    parser.add_argument("--out", type=Path, default=REPO / "models" / "topic-head")
    parser.add_argument("--metrics", type=Path, default=None, help="Write the scores as JSON here too.")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def training_sets(root: Path) -> dict[str, list[data.Example]]:
    return {"taxonomy": data.taxonomy_examples(DEFAULT_TOPICS_FILE), "iptc": data.iptc_weak_labels(root),
            "masakhanews": data.masakhanews(root), "huffpost": data.huffpost(root),
            "reuters": data.reuters(root, 4), "inshorts": data.inshorts(root)}


def shipped_prototypes(settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The default taxonomy's prototype vectors (centroids, texts, owner), in TOP_LEVEL order."""
    taxonomy = load_taxonomy(DEFAULT_TOPICS_FILE)
    order = {t.iptc_code: i for i, t in enumerate(taxonomy.topics)}
    groups = taxonomy.prototypes()
    flat = [text for code in data.TOP_LEVEL for text in groups[order[code]]]
    owner = np.array([k for k, code in enumerate(data.TOP_LEVEL) for _ in groups[order[code]]])
    texts = embed(flat, settings)
    centroids = np.vstack([texts[owner == k].mean(axis=0) for k in range(len(data.TOP_LEVEL))])
    return centroids / np.linalg.norm(centroids, axis=1, keepdims=True), texts, owner


def weak_labels(examples: list[data.Example], similarity: np.ndarray) -> list[data.Example]:
    """The examples whose best prototype topic is clear, labelled with it."""
    ranked = np.sort(similarity, axis=1)
    clear = (ranked[:, -1] >= WEAK_SIMILARITY) & (ranked[:, -1] - ranked[:, -2] >= WEAK_MARGIN)
    return [replace(examples[i], topics=(data.TOP_LEVEL[int(similarity[i].argmax())],))
            for i in np.flatnonzero(clear)]


def word_features(texts: list[str]) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """The vocabulary and idf (from every training text; no labels), and the texts' scaled tf-idf rows."""
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=WORDS_MIN_DF, max_features=WORDS_MAX,
                                 stop_words="english", token_pattern=WORD.pattern, dtype=np.float32)
    return vectorizer, vectorizer.fit_transform(texts) * WORDS_SCALE


def check_lexicon(lexicon: Lexicon, words: sparse.csr_matrix, texts: list[str]) -> None:
    """The product's word scores (topic_head.Lexicon) equal scikit-learn's on the training texts."""
    sample = list(range(0, len(texts), 97))
    ours = lexicon.scores([texts[i] for i in sample])
    theirs = words[sample] @ lexicon.weights.T / WORDS_SCALE
    if not np.allclose(ours, theirs, atol=1e-4):
        raise SystemExit(f"the product's word scores drift from scikit-learn's: {np.abs(ours - theirs).max()}")


def fit_topic(x: np.ndarray | sparse.csr_matrix, positive: np.ndarray, source_weight: np.ndarray) -> LogisticRegression:
    """One topic's regression, positives and negatives weighted to equal totals before the set weights."""
    balance = np.where(positive, 0.5 / positive.mean(), 0.5 / (1 - positive.mean()))
    return LogisticRegression(C=C, max_iter=3000).fit(x, positive, sample_weight=balance * source_weight)


def fit_head(x: np.ndarray | sparse.csr_matrix, labels: np.ndarray,
             weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    models = [fit_topic(x, labels[:, k], weight) for k in range(labels.shape[1])]
    return np.vstack([m.coef_[0] for m in models]), np.array([m.intercept_[0] for m in models])


def out_of_fold(x: np.ndarray | sparse.csr_matrix, labels: np.ndarray, weight: np.ndarray, strata: np.ndarray,
                seed: int) -> np.ndarray:
    """Each example's raw scores from a head trained without its fold."""
    raw = np.zeros(labels.shape)
    for number, (train, test) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
                                           .split(x, strata), 1):
        coef, bias = fit_head(x[train], labels[train], weight[train])
        raw[test] = x[test] @ coef.T + bias
        print(f"  fold {number}/{FOLDS}", file=sys.stderr, flush=True)
    return raw


def fit_sigmoid(score: np.ndarray, positive: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of p = sigmoid(a * score + b), positives weighted to a PRIOR share."""
    share = np.where(positive, PRIOR / (weight * positive).sum(), (1 - PRIOR) / (weight * ~positive).sum())
    model = LogisticRegression(C=1e4, max_iter=1000).fit(score[:, None], positive, sample_weight=share * weight
                                                         * len(score))
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with fixed timestamps, so the same weights give the same bytes (and version)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue(),
                             compress_type=zipfile.ZIP_DEFLATED)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    np.random.seed(args.seed)
    settings = load_settings().topics
    sets = training_sets(args.train)
    centroids, texts, owner = shipped_prototypes(settings)
    mixed = data.huffpost_mixed(args.train)
    mixed_vectors = cached_vectors(mixed, settings, args.cache, "huffpost-mixed")
    sets["huffpost-weak"] = weak_labels(mixed, prototype_similarities(mixed_vectors, centroids, texts, owner))
    examples = [e for name in sets for e in sets[name]]
    vectors = np.vstack([cached_vectors(sets[name], settings, args.cache, name) for name in sets])
    source = np.array([name for name in sets for _ in sets[name]])
    kind = np.array([e.source for e in examples])
    labels = np.array([[code in e.topics for code in data.TOP_LEVEL] for e in examples])
    weight = np.array([SOURCE_WEIGHTS[s] for s in source])
    similarity = prototype_similarities(vectors, centroids, texts, owner)
    head_texts = [head_text(e.title, e.text) for e in examples]
    vectorizer, words = word_features(head_texts)
    dense = np.hstack([vectors, similarity])
    x = sparse.hstack([sparse.csr_matrix(dense), words]).tocsr()
    strata = np.array([f"{s}:{np.argmax(row)}" for s, row in zip(source, labels, strict=True)])
    raw = out_of_fold(x, labels, weight, strata, args.seed)
    # One sigmoid for every topic: the topics' order is the regressions', and out of fold it is as well
    # calibrated as one sigmoid per topic (which reordered topics: BBC macro F1 0.927 instead of 0.934).
    shared = fit_sigmoid(raw.ravel(), labels.ravel(), np.repeat(weight, labels.shape[1]))
    calibration = np.tile(shared, (labels.shape[1], 1))
    zero_shot = np.array(fit_sigmoid(similarity.ravel(), labels.ravel(), np.repeat(weight, labels.shape[1])))
    coef, bias = fit_head(x, labels, weight)
    coef, word_weights = coef[:, :dense.shape[1]], coef[:, dense.shape[1]:] * WORDS_SCALE
    vocabulary = np.array(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get))
    lexicon = Lexicon({w: i for i, w in enumerate(vocabulary.tolist())}, vectorizer.idf_.astype(np.float32),
                      word_weights.astype(np.float32))
    check_lexicon(lexicon, words, head_texts)
    out_of_fold_p = sigmoid(raw * calibration[:, 0] + calibration[:, 1])
    subtopics = [t for t in data.iptc_vocabulary(args.train) if int(t["level"]) > 1]
    sub_vectors = vectors[source == "iptc"]  # the same texts, in the same order (data.iptc_weak_labels)
    args.out.mkdir(parents=True, exist_ok=True)
    names = {str(t["code"]): str(t["name"]) for t in data.iptc_vocabulary(args.train)}
    weights_path = args.out / "head.npz"
    save_npz(
        weights_path, codes=np.array(data.TOP_LEVEL), centroids=centroids.astype(np.float32),
        texts=texts.astype(np.float32), owner=owner.astype(np.int16), weights=coef.astype(np.float32),
        bias=bias.astype(np.float32), calibration=calibration.astype(np.float32),
        zero_shot=zero_shot.astype(np.float32), words=vocabulary, idf=lexicon.idf,
        word_weights=lexicon.weights, sub_vectors=sub_vectors.astype(np.float16),
        sub_codes=np.array([str(t["code"]) for t in subtopics]),
        sub_labels=np.array([str(t["name"]) for t in subtopics]),
        sub_levels=np.array([int(t["level"]) for t in subtopics], dtype=np.int8),
        sub_tops=np.array([str(t["top"]) for t in subtopics]),
        sub_level2_codes=np.array([str(t["level2"]) for t in subtopics]),
        sub_level2_labels=np.array([names[str(t["level2"])] for t in subtopics]))
    version = f"{VERSION_PREFIX}-{file_sha256(weights_path)[:10]}"
    write_manifest(args.out, version, {"model": settings.model, "max_chars": settings.max_chars,
                                       "C": C, "folds": FOLDS, "seed": args.seed, "words_min_df": WORDS_MIN_DF,
                                       "words_max": WORDS_MAX, "words_scale": WORDS_SCALE,
                                       "source_weights": SOURCE_WEIGHTS})
    head_raw = dense @ coef.T + lexicon.scores(head_texts) + bias
    head_p = sigmoid(head_raw * calibration[:, 0] + calibration[:, 1])
    weak = Counter(e.topics[0] for e in sets["huffpost-weak"])
    metrics = {"version": version, "examples": {k: len(v) for k, v in sets.items()}, "weak_labels": weak,
               "huffpost_cv": huffpost_cv(out_of_fold_p, labels, kind),
               "calibration_out_of_fold": calibration_table(out_of_fold_p.ravel(), labels.ravel()),
               "calibration_train": calibration_table(head_p.ravel(), labels.ravel()),
               "zero_shot": zero_shot.tolist(),
               "bbc": bbc_report(args.bbc, settings, args.cache, version)}
    text = json.dumps(metrics, indent=1)
    print(text)
    if args.metrics:
        args.metrics.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
