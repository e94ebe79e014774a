"""Named entities: spaCy finds the spans, rules resolve them into one entity per real thing.

Within an article, mentions are grouped into entities: the same normalised name is one entity,
a lone surname joins the one full personal name it ends ("Blunt" joins "Roy Blunt"), honorifics
and leading articles are dropped ("Sen. Tillis" is "Tillis", "the Senate" is "Senate"), spans cut
at a hyphen are completed ("Takht-e-Ravanchi"), and the entity takes the type most of its longest
mentions carry. Headlines are tagged too, but a headline span only counts when the body names the
same entity, so title casing ("Meet MEK Leader") does not invent people. Across the warehouse an
entity is keyed by its type and normalised canonical name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from broadsheet.config.errors import ConfigError
from broadsheet.config.settings import EntitySettings
from broadsheet.tasks.records import Article, Entity, EntityType, Mention

LABELS: dict[str, EntityType] = {
    "PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place",
}
TYPE_PREFERENCE: tuple[EntityType, ...] = ("person", "organization", "place")
# The small English model's PERSON label is far more precise than its ORG label (CoNLL dev), and a
# name that the text later shortens to its last word is a person's: both count as stronger votes.
LABEL_WEIGHTS: dict[str, float] = {"person": 1.5}
RULES_VERSION = "rules1"
HONORIFICS = re.compile(
    r"^(?:(?:mr|mrs|ms|miss|dr|prof|sir|dame|sen|senator|rep|representative|gov|governor|"
    r"president|pres|prime minister|minister|secretary|gen|general|col|capt|lt|judge|justice|"
    r"rev|father|sheikh|king|queen|prince|princess|mayor|chancellor)\.?\s+)+",
    re.IGNORECASE,
)
_LEADING_ARTICLE = re.compile(r"^the\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")
_EDGE_PUNCTUATION = " \t\n.,;:!?\"'“”‘’()[]{}<>«»-–—"
_WORD_TAIL = re.compile(r"(?:[-‐]\w+)*[-‐][A-Z]\w*")


@dataclass
class _Span:
    name: str
    key: str
    label: EntityType
    start: int
    end: int
    in_title: bool
    surface: str


@dataclass
class _Cluster:
    spans: list[_Span] = field(default_factory=list)
    surname_links: int = 0

    def entity_type(self) -> EntityType:
        """The type with most weighted votes; ties go to the earlier type of TYPE_PREFERENCE."""
        votes: dict[EntityType, float] = defaultdict(float)
        for span in self.spans:
            if span.in_title:  # headline casing misleads the tagger: titles join, they don't vote
                continue
            votes[span.label] += LABEL_WEIGHTS.get(span.label, 1.0)
        votes["person"] += LABEL_WEIGHTS["person"] * self.surname_links
        best = max(votes.values())
        return next(t for t in TYPE_PREFERENCE if votes.get(t) == best)

    def name(self) -> str:
        width = max(len(span.key.split()) for span in self.spans)
        counts = Counter(span.name for span in self.spans if len(span.key.split()) == width)
        return max(counts, key=lambda name: (counts[name], len(name)))


@lru_cache(maxsize=2)
def load_pipeline(model: str) -> Any:
    """The spaCy pipeline, once per process, with only the components NER needs."""
    import spacy

    try:
        return spacy.load(model, exclude=["parser", "lemmatizer", "senter"])
    except OSError as exc:
        raise ConfigError(f"spaCy model {model!r} is not installed: install the pinned requirements "
                          f"(requirements.lock) or set entities.model ({exc})") from exc


def enricher_name(model: str) -> str:
    meta = load_pipeline(model).meta
    return f"spacy:{meta['lang']}_{meta['name']}@{meta['version']}+{RULES_VERSION}"


def normalize_name(surface: str) -> str:
    """The name in a span, without honorifics, leading article, possessive and edge punctuation."""
    name = " ".join(unicodedata.normalize("NFKC", surface).split())
    name = _POSSESSIVE.sub("", name.strip(_EDGE_PUNCTUATION))
    name = HONORIFICS.sub("", _LEADING_ARTICLE.sub("", name))
    return name.strip(_EDGE_PUNCTUATION)


def entity_key(name: str) -> str:
    return name.casefold()


def entity_id(entity_type: str, key: str) -> str:
    return hashlib.sha256(f"{entity_type}|{key}".encode()).hexdigest()[:24]


def _complete_word(text: str, end: int) -> int:
    """Extend a span cut inside a hyphenated name ("Takht" of "Takht-e-Ravanchi"), not "Texas-based"."""
    match = _WORD_TAIL.match(text, end)
    return match.end() if match else end


def _spans(doc: Any, text: str, in_title: bool) -> list[_Span]:
    spans = []
    for ent in doc.ents:
        label = LABELS.get(ent.label_)
        if label is None:
            continue
        end = _complete_word(text, ent.end_char)
        surface = text[ent.start_char:end]
        name = normalize_name(surface)
        if not name or not any(ch.isalpha() for ch in name) or name.islower():
            continue
        offset = surface.find(name)
        start = ent.start_char + max(offset, 0)
        spans.append(_Span(name, entity_key(name), label, start, start + len(name), in_title, surface))
    return spans


def _surname_target(span: _Span, clusters: list[_Cluster]) -> _Cluster | None:
    """The one cluster whose multi-word personal name ends in the one-word ``span``."""
    if " " in span.key:
        return None
    matches = [
        cluster for cluster in clusters
        if any(" " in s.key and s.key.split()[-1] == span.key and s.label == "person"
               for s in cluster.spans)
    ]
    return matches[0] if len(matches) == 1 else None


def resolve_mentions(body: list[_Span], title: list[_Span]) -> list[_Cluster]:
    """Group one article's spans into entities (see the module docstring for the rules)."""
    clusters: list[_Cluster] = []
    by_key: dict[str, _Cluster] = {}
    for span in sorted(body, key=lambda s: (-len(s.key.split()), s.start)):
        cluster = by_key.get(span.key)
        if cluster is None:
            cluster = _surname_target(span, clusters)
            if cluster is None:
                cluster = _Cluster()
                clusters.append(cluster)
            else:
                cluster.surname_links += 1
            by_key[span.key] = cluster
        cluster.spans.append(span)
    for span in title:
        cluster = by_key.get(span.key) or _surname_target(span, clusters)
        if cluster is not None:
            cluster.spans.append(span)
    return clusters


def _to_records(clusters: Iterable[_Cluster]) -> tuple[tuple[Entity, ...], tuple[Mention, ...]]:
    entities: dict[str, Entity] = {}
    mentions: list[Mention] = []
    for cluster in clusters:
        name, entity_type = cluster.name(), cluster.entity_type()
        key = entity_key(name)
        eid = entity_id(entity_type, key)
        entities.setdefault(eid, Entity(eid, name, entity_type, key))
        mentions += [Mention(eid, s.name, s.start, s.end, s.in_title) for s in cluster.spans]
    unique = {(m.start_char, m.end_char, m.in_title): m for m in mentions}
    return tuple(entities.values()), tuple(sorted(unique.values(), key=lambda m: (not m.in_title, m.start_char)))


def tag_entities(
    articles: list[Article], settings: EntitySettings
) -> list[tuple[tuple[Entity, ...], tuple[Mention, ...]]]:
    """Resolved entities and their mentions, one pair per article, in order."""
    nlp = load_pipeline(settings.model)
    texts = [article.text[: settings.max_chars] for article in articles]
    titles = [article.title or "" for article in articles]
    body_docs = nlp.pipe(texts, batch_size=32)
    title_docs = nlp.pipe(titles, batch_size=64)
    results = []
    for text, title, body_doc, title_doc in zip(texts, titles, body_docs, title_docs, strict=True):
        clusters = resolve_mentions(_spans(body_doc, text, False), _spans(title_doc, title, True))
        results.append(_to_records(clusters))
    return results
