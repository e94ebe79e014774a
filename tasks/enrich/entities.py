"""Named entities: a tagger finds the spans, the gazetteer and rules make them one entity per real thing.

``entities.model`` picks the tagger: the learned one shipped in ``models/ner-minilm``
(:mod:`broadsheet.tasks.enrich.tagger`, the default), or spaCy's small English pipeline with an entity ruler
behind its NER that adds every country name and short form ("U.S.", "Britain") where the NER found
nothing. Each span is then cleaned (:func:`normalize_name`: no honorific, leading article or possessive;
abbreviation dots kept; a span that ran on into "(", a score, a trailing number, lowercase words or a
spaced dash is cut back; a party-state tag such as "R-NC" is no name). :class:`Rules` says which of the
other hand rules run after each tagger: spaCy's path completes names cut at a hyphen, joins organisation
names split at "and", keeps "Party of Canada" tails, reads datelines ("TIRANA, Albania -") as places and
distrusts lines in capitals; the learned tagger needed none of these on dev. Both read a place opening a
line of standings ("Chicago 72 58") as a team, an organisation. :mod:`broadsheet.tasks.enrich.resolve` groups
the spans of one article into entities. Across the warehouse an entity is keyed by its type and
canonical key: a gazetteer id for places it knows ("U.S.", "US" and "United States" are one country,
with ISO code and coordinates), else the name without case, accents and abbreviation dots.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any

from broadsheet.config.entity_aliases import AliasCorrection, load_alias_corrections
from broadsheet.config.errors import ConfigError
from broadsheet.config.records import Article, Entity, EntityType, Keyphrase, Mention, Salience
from broadsheet.config.settings import EntitySettings
from broadsheet.tasks.enrich import resolve
from broadsheet.tasks.enrich.gazetteer import GAZETTEER_VERSION, country_names, lookup_place
from broadsheet.tasks.enrich.keyphrases import extract_keyphrases
from broadsheet.tasks.enrich.resolve import Cluster, Span
from broadsheet.tasks.enrich.tagger import EntitySpan, load_tagger, tagger_version

LABELS: dict[str, EntityType] = {
    "PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place",
}
RULES_VERSION = "rules9"  # rules9: a learned mention votes with the tagger's belief; a text's windows batched alone
HONORIFICS = re.compile(
    r"^(?:(?:mr|mrs|ms|miss|dr|prof|sir|dame|sen|senator|senators|rep|representative|gov|governor|"
    r"president|pres|prime minister|minister|secretary|gen|general|col|capt|lt|judge|justice|"
    r"rev|father|sheikh|king|queen|prince|princess|mayor|chancellor|lord|lady|ayatollah)\.?\s+)+",
    re.IGNORECASE,
)
# Institutions named by a common noun alone: which senate or parliament is unknown, so no entity.
GENERIC_NAMES = frozenset({"senate", "parliament", "house", "state", "congress", "government", "cabinet",
                           "assembly", "court", "council", "committee", "party", "army", "police", "ministry"})
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\s?['’]s?$")
_EDGE_PUNCTUATION = " \t\n,;:!?\"'“”‘’()[]{}<>«»-–—"
_ABBREVIATION = re.compile(r"(?:\b[A-Za-z]\.)+$")  # "U.S.", "U.N.", "Jr." keeps its last dot
_WORD_TAIL = re.compile("(?:[-\u2010]\\w+)*[-\u2010][A-Z]\\w*")
_TRAILING_SCORE = re.compile(r"(?:\s+\d+[-:]\d+)+$")
_TRAILING_LOWER = re.compile(r"(?:\s+[a-z][\w-]*)+$")
_TRAILING_NUMBER = re.compile(r"(?:\s+[-+]?\d[\d.,:/-]*)+$")
_DATELINE = re.compile(r"^([A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){0,3})(?=,| \(| [-–—]| \d{4}-\d\d-\d\d)",
                       re.MULTILINE)
_STANDINGS = re.compile(r"^([A-Z][A-Za-z.'-]+(?: [A-Z][A-Za-z.'-]+){0,3})(?= \d+ \d+)", re.MULTILINE)
_PARTY_STATE = re.compile(r"^[RDI]-[A-Z]{2}$")  # "Thom Tillis (R-NC)": party and state, not a name
_ORG_TAIL = re.compile(r" of(?: the)? (?:[A-Z][\w'’.-]*)(?: [A-Z][\w'’.-]*)*")
_ORG_SUFFIX_WORDS = {"party", "union", "alliance", "league", "front", "movement", "council", "congress"}


@dataclass(frozen=True)
class Rules:
    """Which hand rules run after a tagger. Each was scored on and off over the learned tagger's spans on
    CoNLL and CrossNER politics dev (benchmarks/RESULTS.md, 2026-12-03): the learned tagger keeps only
    those that paid there; spaCy's path keeps all, for which they were written."""

    cut_names: bool = True       # complete a name cut at a hyphen, run "X Party" on through "of Y"
    join_and: bool = True        # "Social Democratic" + "and" + "Labour Party" is one name
    datelines: bool = True       # "TIRANA, Albania -" opens with a place
    shouting: bool = True        # spans on lines in capitals only join entities found elsewhere
    propagate: bool = True       # a name tagged once is looked for again in the rest of the body
    name_evidence: bool = True   # a name ending in an organisation word ("Ministry") is an organisation


SPACY_RULES = Rules()
LEARNED_RULES = Rules(cut_names=False, join_and=False, datelines=False, shouting=False, propagate=False,
                      name_evidence=False)


@lru_cache(maxsize=2)
def load_pipeline(model: str) -> Any:
    """The spaCy pipeline, once per process: NER behind a ruler of country names."""
    nlp = _load_spacy(model, ["parser", "lemmatizer", "senter"])
    # After the NER, filling only what it left untagged, so "Bank of England" stays whole.
    ruler: Any = nlp.add_pipe("entity_ruler", after="ner", config={"phrase_matcher_attr": "ORTH"})
    names = country_names()
    ruler.add_patterns([{"label": "GPE", "pattern": form} for name in names
                        for form in {name, name.upper()} if len(form) > 2 or form.isupper()])
    return nlp


@lru_cache(maxsize=2)
def load_pos_pipeline(model: str) -> Any:
    """The spaCy pipeline with only what part-of-speech tags need (keyphrases beside the learned tagger)."""
    return _load_spacy(model, ["parser", "lemmatizer", "senter", "ner"])


def _load_spacy(model: str, exclude: list[str]) -> Any:
    import spacy

    try:
        return spacy.load(model, exclude=exclude)
    except OSError as exc:
        raise ConfigError(f"spaCy model {model!r} is not installed: install the pinned requirements "
                          f"(requirements.lock) or set entities.spacy_model ({exc})") from exc


def load_models(settings: EntitySettings, keyphrases: bool = True) -> None:
    """Load (and cache in this process) the models tagging with ``settings`` needs."""
    if settings.model == "spacy":
        load_pipeline(settings.spacy_model)
        return
    load_tagger(settings.threads, settings.model)
    if keyphrases:
        load_pos_pipeline(settings.spacy_model)


def enricher_name(settings: EntitySettings, aliases_version: str = "") -> str:
    """Tagger, rules and gazetteer versions, and the alias corrections' version when there are any."""
    if settings.model == "spacy":
        meta = load_pipeline(settings.spacy_model).meta
        tagger = f"spacy:{meta['lang']}_{meta['name']}@{meta['version']}"
    else:
        tagger = f"tagger:{tagger_version(settings.model)}"
    corrections = f"+aliases:{aliases_version}" if aliases_version else ""
    return f"{tagger}+{RULES_VERSION}+{GAZETTEER_VERSION}{corrections}"


def normalize_name(surface: str) -> str:
    """The name in a span, without honorifics, leading article, possessive and edge punctuation."""
    name = " ".join(unicodedata.normalize("NFKC", surface).split())
    abbreviation = _ABBREVIATION.search(name.rstrip(_EDGE_PUNCTUATION))
    name = _POSSESSIVE.sub("", name.strip(_EDGE_PUNCTUATION))
    name = HONORIFICS.sub("", _LEADING_ARTICLE.sub("", name)).strip(_EDGE_PUNCTUATION)
    return name if abbreviation and name.endswith(".") else name.rstrip(".")


def entity_key(name: str) -> str:
    """A name without case, accents, abbreviation dots and hyphen variants: "U.N." and "UN" agree."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    plain = re.sub(r"\b([A-Za-z])\.", r"\1", plain).replace("\u2010", "-")
    return " ".join(plain.casefold().split())


def entity_id(entity_type: str, key: str) -> str:
    return hashlib.sha256(f"{entity_type}|{key}".encode()).hexdigest()[:24]


def _complete_word(text: str, end: int) -> int:
    """Extend a span cut inside a hyphenated name ("Takht" of "Takht-e-Ravanchi"), not "Texas-based"."""
    match = _WORD_TAIL.match(text, end)
    return match.end() if match else end


def _extend_org(text: str, label: EntityType, end: int) -> int:
    """"Communist Party" + " of Greece": an organisation's name goes on through "of" and capitals."""
    if label != "organization":
        return end
    last = text[:end].rsplit(None, 1)[-1].casefold() if text[:end].strip() else ""
    match = _ORG_TAIL.match(text, end) if last in _ORG_SUFFIX_WORDS else None
    return match.end() if match else end


def _shouting_lines(text: str) -> list[tuple[int, int]]:
    lines, start = [], 0
    for line in text.split("\n"):
        letters = [ch for ch in line if ch.isalpha()]
        if len(letters) > 3 and all(ch.isupper() for ch in letters):
            lines.append((start, start + len(line)))
        start += len(line) + 1
    return lines


def _trim_tail(surface: str, label: EntityType) -> int:
    """Where a name ends inside a span that ran on: before "(", scores ("2-0"), a person's or place's
    trailing number ("Ratcliffe 63") or comma ("Oval, London" is two places)."""
    cut = surface.find("(")
    surface = surface[:cut] if cut > 0 else surface
    if label != "organization":
        surface = re.split(r"\s?,\s", surface, maxsplit=1)[0]
    surface = surface.split(" - ", 1)[0]  # "Lithuania - Danius Gleveckas": a list, not one name
    pattern = _TRAILING_SCORE if label == "organization" else _TRAILING_NUMBER
    surface = _TRAILING_LOWER.sub("", pattern.sub("", surface))  # "Interfax news agency" is "Interfax"
    return len(surface.rstrip())


def make_span(text: str, start: int, end: int, label: EntityType, in_title: bool,
              shouting: list[tuple[int, int]], cut_names: bool = True,
              shares: tuple[float, ...] | None = None) -> Span | None:
    """A cleaned span of ``text[start:end]``, or None when nothing name-like is left."""
    if cut_names:
        end = _extend_org(text, label, _complete_word(text, end))
    end = start + _trim_tail(text[start:end], label)
    surface = text[start:end]
    name = normalize_name(surface)
    if (not name or not any(ch.isalpha() for ch in name) or name.islower() or name.casefold() in GENERIC_NAMES
            or _PARTY_STATE.match(name)):
        return None
    offset = max(surface.find(name), 0)
    honorific = bool(HONORIFICS.match(surface)) or bool(
        re.search(r"\b(?:Mr|Mrs|Ms|Dr|Sen|Senator|Rep)\.?\s+$", text[max(0, start - 12):start]))
    loud = any(a <= start < b for a, b in shouting)
    return Span(name, entity_key(name), label, start + offset, start + offset + len(name), in_title, surface,
                shouting=loud, honorific=honorific and label == "person", shares=shares)


def _join_and(spans: list[Span], text: str, shouting: list[tuple[int, int]]) -> list[Span]:
    """"Social Democratic" + " and " + "Labour Party": two organisation spans that are one name."""
    joined: list[Span] = []
    for span in spans:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.label == span.label == "organization"
                and text[previous.end:span.start] == " and " and span.key.split()[-1] in _ORG_SUFFIX_WORDS
                and previous.key.split()[-1] not in _ORG_SUFFIX_WORDS):
            merged = make_span(text, previous.start, span.end, "organization", span.in_title, shouting)
            if merged is not None:
                joined[-1] = merged
                continue
        joined.append(span)
    return joined


def spacy_found(doc: Any) -> list[EntitySpan]:
    """The spans of a spaCy doc's entities of the product's types."""
    return [EntitySpan(e.start_char, e.end_char, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS]


def spans_of(found: list[EntitySpan], text: str, in_title: bool, rules: Rules = SPACY_RULES) -> list[Span]:
    """The tagger's spans of ``text``, cleaned (:func:`make_span`) and, by ``rules``, joined at "and"."""
    shouting = _shouting_lines(text) if rules.shouting and not in_title else []
    spans = [span for start, end, label, shares in found
             if (span := make_span(text, start, end, label, in_title, shouting, rules.cut_names, shares)) is not None]
    return _join_and(spans, text, shouting) if rules.join_and else spans


def _place_at_line_start(text: str, spans: list[Span], pattern: re.Pattern[str],
                         label: EntityType) -> list[Span]:
    """A place named where ``pattern`` matches at a line start becomes (or relabels) a ``label`` span."""
    added = []
    for match in pattern.finditer(text):
        start, end = match.span(1)
        if lookup_place(match.group(1)) is None:
            continue
        same = [s for s in spans if s.start < end and start < s.end]
        if not same:
            added.append(Span(match.group(1), entity_key(match.group(1)), label, start, end, False, match.group(1)))
        elif len(same) == 1 and (same[0].start, same[0].end) == (start, end):
            same[0].label, same[0].shouting, same[0].shares = label, False, None
    return spans + added


def dateline_spans(text: str, spans: list[Span], datelines: bool = True) -> list[Span]:
    """A news dateline ("TIRANA, Albania -", "BELGRADE 1996-08-22") names the place the story is from;
    a line of standings in capitals ("NEW YORK 72 58 .554") names a team, an organisation."""
    if datelines:
        spans = _place_at_line_start(text, spans, _DATELINE, "place")
    return _place_at_line_start(text, spans, _STANDINGS, "organization")


def acronym_spans(text: str, spans: list[Span]) -> tuple[list[Span], dict[str, str]]:
    """Spans for defined acronyms and their expansions the tagger missed; acronym key → expansion key."""
    acronyms: dict[str, str] = {}
    added: list[Span] = []
    for acronym, start, end in resolve.find_acronyms(text):
        expansion = make_span(text, start, end, "organization", False, [])
        if expansion is None:
            continue
        acronyms[entity_key(acronym)] = expansion.key
        if not any(s.key == expansion.key for s in spans + added):
            added.append(expansion)
        for match in re.finditer(rf"(?<![\w.-]){re.escape(acronym)}(?![\w-])", text):
            if not any(s.start < match.end() and match.start() < s.end for s in spans + added):
                added.append(Span(acronym, entity_key(acronym), "organization", match.start(), match.end(),
                                  False, acronym))
    return spans + added, acronyms


def resolve_article(text: str, title: str, body_found: list[EntitySpan], title_found: list[EntitySpan],
                    rules: Rules = SPACY_RULES) -> list[Cluster]:
    """The entities of one article from its tagged spans (see :mod:`broadsheet.tasks.enrich.resolve` for the rules)."""
    body = dateline_spans(text, spans_of(body_found, text, False, rules), rules.datelines)
    body, acronyms = acronym_spans(text, body)
    clusters = resolve.cluster_spans(body, spans_of(title_found, title, True, rules), acronyms,
                                     name_evidence=rules.name_evidence)
    for cluster in clusters:
        expansions = [s.name for s in cluster.spans if s.key in acronyms.values()]
        if expansions and any(k in acronyms for k in cluster.name_keys()):
            cluster.acronym_of = expansions[0]
    if rules.propagate:
        resolve.propagate(clusters, text, _shouting_lines(text) if rules.shouting else [])
    resolve.propagate_title(clusters, title)
    return clusters


Corrections = dict[str, AliasCorrection]  # alias key → correction (see config/entity_aliases.py)


def corrections_by_key(settings: EntitySettings) -> Corrections:
    return {entity_key(c.alias): c for c in load_alias_corrections(settings.aliases_file).corrections}


def to_entity(cluster: Cluster, corrections: Corrections | None = None) -> Entity:
    """The warehouse entity of a cluster: an analyst's alias correction first, then gazetteer places
    keyed by their gazetteer id, then the name."""
    fixed = next((corrections[k] for k in cluster.name_keys() if corrections and k in corrections), None)
    if fixed is not None:
        key = entity_key(fixed.name)
        return Entity(entity_id(fixed.entity_type, key), fixed.name, fixed.entity_type, key, fixed.country_code,
                      fixed.latitude, fixed.longitude)
    name, entity_type = cluster.name(), cluster.entity_type()
    place = lookup_place(name) if entity_type == "place" else None
    if place is None:
        key = entity_key(name)
        return Entity(entity_id(entity_type, key), name, entity_type, key)
    return Entity(entity_id(entity_type, place.gazetteer_id), place.name, entity_type, place.gazetteer_id,
                  place.country_code, place.latitude, place.longitude, place.gazetteer_id)


def salience(entity: Entity, spans: list[Span], lead_end: int) -> Salience:
    """In the title, in the first paragraph, how often: score = 0.4·title + 0.3·lead + 0.3·min(n, 5)/5."""
    body = [s for s in spans if not s.in_title]
    in_title = any(s.in_title for s in spans)
    in_lead = any(s.start < lead_end for s in body)
    first = min((s.start for s in body), default=-1)
    score = 0.4 * in_title + 0.3 * in_lead + 0.3 * min(len(body), 5) / 5
    return Salience(entity.entity_id, len(body), in_title, in_lead, first, round(score, 4))


def to_records(clusters: list[Cluster], text: str, corrections: Corrections | None = None,
               ) -> tuple[tuple[Entity, ...], tuple[Mention, ...], tuple[Salience, ...]]:
    entities: dict[str, Entity] = {}
    spans_by_entity: dict[str, list[Span]] = {}
    mentions: list[Mention] = []
    for cluster in clusters:
        found = to_entity(cluster, corrections)
        entity = entities.setdefault(found.entity_id, found)
        spans_by_entity.setdefault(entity.entity_id, []).extend(cluster.spans)
        mentions += [Mention(entity.entity_id, s.name, s.start, s.end, s.in_title) for s in cluster.spans]
    unique = {(m.start_char, m.end_char, m.in_title): m for m in mentions}
    lead_end = text.find("\n") if "\n" in text else len(text)
    ranked = sorted((salience(e, spans_by_entity[e.entity_id], lead_end) for e in entities.values()),
                    key=lambda s: (-s.score, s.first_char))
    return (tuple(entities.values()), tuple(sorted(unique.values(), key=lambda m: (not m.in_title, m.start_char))),
            tuple(ranked))


ArticleEntities = tuple[tuple[Entity, ...], tuple[Mention, ...], tuple[Salience, ...]]


def analyse_articles(articles: list[Article], settings: EntitySettings, keyphrase_count: int = 0,
                     ) -> list[tuple[ArticleEntities, tuple[Keyphrase, ...]]]:
    """Per article, in order: resolved entities, mentions and salience; and its keyphrases."""
    tagged = [not settings.languages or a.language is None or a.language in settings.languages for a in articles]
    texts = [a.text[: settings.max_chars] if ok else "" for a, ok in zip(articles, tagged, strict=True)]
    titles = [(a.title or "")[: settings.max_chars] if ok else "" for a, ok in zip(articles, tagged, strict=True)]
    body_docs: Iterable[Any]
    if settings.model == "spacy":
        body_found, title_found, body_docs = _spacy_tagged(texts, titles, settings)
    else:
        body_found, title_found = _learned_tagged(texts, titles, settings)
        body_docs = _pos_tagged(texts, settings) if keyphrase_count else repeat(None, len(texts))
    corrections = corrections_by_key(settings)
    rules = SPACY_RULES if settings.model == "spacy" else LEARNED_RULES
    return [(to_records(resolve_article(text, title, body, head, rules), text, corrections),
             extract_keyphrases(doc, title, keyphrase_count) if keyphrase_count else ())
            for text, title, body, head, doc in zip(texts, titles, body_found, title_found, body_docs, strict=True)]


def _spacy_tagged(texts: list[str], titles: list[str], settings: EntitySettings,
                  ) -> tuple[list[list[EntitySpan]], list[list[EntitySpan]], list[Any]]:
    nlp = load_pipeline(settings.spacy_model)
    # One body at a time: as fast as batches of articles this long, and a batch of ten peaked ~250 MB higher.
    body_docs = list(nlp.pipe(texts, batch_size=1))
    title_found = [spacy_found(doc) for doc in nlp.pipe(titles, batch_size=64)]
    return [spacy_found(doc) for doc in body_docs], title_found, body_docs


def _learned_tagged(texts: list[str], titles: list[str], settings: EntitySettings,
                    ) -> tuple[list[list[EntitySpan]], list[list[EntitySpan]]]:
    found = load_tagger(settings.threads, settings.model).tag_many([*texts, *titles])
    return found[: len(texts)], found[len(texts):]


def _pos_tagged(texts: list[str], settings: EntitySettings) -> Iterable[Any]:
    """spaCy docs with part-of-speech tags only (for keyphrases), one body at a time."""
    return load_pos_pipeline(settings.spacy_model).pipe(texts, batch_size=1)


def tag_entities(articles: list[Article], settings: EntitySettings) -> list[ArticleEntities]:
    """Resolved entities, their mentions and salience, one triple per article, in order."""
    return [found for found, _ in analyse_articles(articles, settings)]
