"""Resolution inside one article: which tagged spans are the same entity, and what type it is.

Rules, in order (each has a test in tests/enrich/test_resolve.py):

1. The same normalised name is one entity ("Sen. Thom Tillis" and "Thom Tillis").
2. An acronym defined in the text, ``Mojahedin-e-Khalq (MEK)``, joins its expansion, and so does
   every later use of it, tagged or not.
3. A later one-word form joins the one multi-word name it ends or starts ("Blunt", "Rajavi" join
   "Roy Blunt", "Maryam Rajavi") when exactly one such name exists; for an organisation, the word it
   starts with ("Veridian" joins "Veridian Semiconductor"), unless that word is a known place.
4. Every name of an entity found by the tagger anywhere in the body is looked for again in the rest
   of the body (same case, whole words), so a name tagged once is counted every time.
5. Spans from shouting lines (all capitals) and from the title only join entities of the body; on
   their own they are headline casing, not evidence. Gazetteer places are the exception.
6. The entity's type is the weighted vote of all its mentions, with the evidence of names. A mention
   of the learned tagger votes with its belief split over the types (0.89 organisation and 0.10 place
   for one, 0.79 place for the next, at most 1 a mention); a mention from spaCy or from a rule (a
   dateline, an acronym, a name joined at "and") votes for its label with a weight. A known
   country is a place, a name ending in "Party" or "Ministry" is an organisation, a name after "Mr"
   or "Sen." or shortened to its surname is a person.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from broadsheet.config.records import ENTITY_TYPES, EntityType
from broadsheet.tasks.enrich.gazetteer import is_country, lookup_place

TYPE_PREFERENCE: tuple[EntityType, ...] = ("person", "organization", "place")
# spaCy's mentions vote for their label with a weight: the small English model's PERSON label is far more
# precise than its ORG label (CoNLL dev).
LABEL_WEIGHTS: dict[str, float] = {"person": 1.5, "organization": 1.0, "place": 1.0}
# ...but not for a lone word: a one-word PERSON span not linked to a full name is as often a team,
# a company or a town ("Surrey", "Magna"), so it counts less than the other labels of the same name.
LONE_PERSON_WEIGHT = 0.6
STRONG = 3.0
ORG_WORDS = frozenset((
    "inc", "inc.", "corp", "corp.", "corporation", "ltd", "ltd.", "llc", "plc", "co", "co.", "company",
    "group", "holdings", "bank", "party", "council", "ministry", "department", "university", "college",
    "school", "institute", "committee", "commission", "agency", "association", "union", "federation",
    "foundation", "organization", "organisation", "authority", "board", "court", "senate", "parliament",
    "assembly", "congress", "army", "navy", "corps", "guard", "guards", "police", "front", "movement",
    "alliance", "league", "club", "fc", "airlines", "airways", "news", "times", "post", "journal", "service",
    "services", "office", "bureau", "trust", "fund", "society", "church", "network", "agency", "exchange",
))
_ACRONYM_NAME = re.compile(r"^[A-Z][A-Z&.]{1,7}$")


@dataclass
class Span:
    """One tagged (or propagated) stretch of the title or body."""

    name: str
    key: str
    label: EntityType
    start: int
    end: int
    in_title: bool
    surface: str
    shouting: bool = False      # found on a line in capitals
    honorific: bool = False     # preceded by "Mr", "Sen." ...
    propagated: bool = False    # found again by rule 4, not by the tagger
    shares: tuple[float, ...] | None = None  # the learned tagger's belief over ENTITY_TYPES (tagger.EntitySpan)

    @property
    def votes(self) -> bool:
        return not (self.in_title or self.shouting or self.propagated)


@dataclass
class Cluster:
    spans: list[Span] = field(default_factory=list)
    surname_links: int = 0
    acronym_of: str | None = None
    name_evidence: bool = True  # whether a name's last word ("Party", "Ministry") votes for organisation

    def entity_type(self) -> EntityType:
        """The type with most weighted votes; ties go to the earlier type of TYPE_PREFERENCE."""
        name = self.name()
        if is_country(name) and not any(span.honorific for span in self.spans):
            return "place"  # a country named in the text is the place, whatever the tagger said
        votes = self._votes(name)
        if not votes:  # only headline or shouting mentions: trust the gazetteer, then the tagger
            return "place" if lookup_place(name) is not None else self.spans[0].label
        best = max(votes.values())
        return next(t for t in TYPE_PREFERENCE if votes.get(t) == best)

    def _votes(self, name: str) -> dict[EntityType, float]:
        votes: dict[EntityType, float] = defaultdict(float)
        for span in self.spans:
            if span.votes:
                if span.shares is not None:  # the learned tagger's belief, split over the types
                    for label, share in zip(ENTITY_TYPES, span.shares, strict=True):
                        votes[label] += share
                else:
                    lone_person = span.label == "person" and " " not in span.key
                    votes[span.label] += LONE_PERSON_WEIGHT if lone_person else LABEL_WEIGHTS[span.label]
            if span.honorific:
                votes["person"] += STRONG
        if self.surname_links:
            votes["person"] += LABEL_WEIGHTS["person"] * self.surname_links
        if self.name_evidence and name.split()[-1].casefold() in ORG_WORDS:
            votes["organization"] += STRONG
        if self.acronym_of is not None:
            votes["organization"] += 1.0
        if _ACRONYM_NAME.match(name) and lookup_place(name) is None:
            votes["organization"] += STRONG  # "IRGC", "NATO": an unknown acronym is not a place
        return votes

    def name(self) -> str:
        """The longest name (in words) of the entity, the most frequent of those."""
        if self.acronym_of is not None:
            return self.acronym_of
        width = max(len(span.key.split()) for span in self.spans)
        counts = Counter(span.name for span in self.spans if len(span.key.split()) == width)
        return max(counts, key=lambda name: (counts[name], len(name)))

    def name_keys(self) -> set[str]:
        return {span.key for span in self.spans}


def _short_form_target(span: Span, clusters: list[Cluster]) -> Cluster | None:
    """The one cluster with a multi-word personal name that ends (or starts) with one-word ``span``, or an
    organisation's name that starts with it ("Veridian" for "Veridian Semiconductor") unless the word is a
    known place ("Manchester" in a story about Manchester United may be the city)."""
    if " " in span.key:
        return None
    organisation_ok = lookup_place(span.name) is None
    matches = [cluster for cluster in clusters
               if any(" " in s.key and _shortens(span.key, s, organisation_ok) for s in cluster.spans)]
    return matches[0] if len(matches) == 1 else None


def _shortens(word: str, full: Span, organisation_ok: bool) -> bool:
    words = full.key.split()
    if full.label == "person":
        return word in (words[-1], words[0])
    return organisation_ok and full.label == "organization" and word == words[0]


def cluster_spans(body: list[Span], title: list[Span], acronyms: dict[str, str], name_evidence: bool = True,
                  ) -> list[Cluster]:
    """Group one article's spans into entities by rules 1, 2, 3 and 5 (see the module docstring)."""
    clusters: list[Cluster] = []
    by_key: dict[str, Cluster] = {}
    confident = [s for s in body if not s.shouting or lookup_place(s.name) is not None]
    for span in sorted(confident, key=lambda s: (-len(s.key.split()), s.start)):
        cluster = by_key.get(span.key) or by_key.get(acronyms.get(span.key, ""))
        if cluster is None:
            cluster = _short_form_target(span, clusters)
            if cluster is None:
                cluster = Cluster(name_evidence=name_evidence)
                clusters.append(cluster)
            elif any(s.label == "person" for s in cluster.spans):
                cluster.surname_links += 1
        by_key[span.key] = cluster
        cluster.spans.append(span)
    for expansion, acronym in ((e, a) for a, e in acronyms.items()):
        if expansion in by_key and acronym in by_key and by_key[acronym] is not by_key[expansion]:
            _merge(by_key, clusters, by_key[expansion], by_key[acronym])
    for span in [s for s in body if s not in confident] + title:
        cluster = by_key.get(span.key) or _short_form_target(span, clusters)
        if cluster is not None:
            cluster.spans.append(span)
    return clusters


def _merge(by_key: dict[str, Cluster], clusters: list[Cluster], into: Cluster, other: Cluster) -> None:
    into.spans += other.spans
    into.surname_links += other.surname_links
    clusters.remove(other)
    for key, cluster in list(by_key.items()):
        if cluster is other:
            by_key[key] = into


def propagate(clusters: list[Cluster], text: str, shouting: list[tuple[int, int]], min_chars: int = 2) -> None:
    """Rule 4: add every untagged whole-word use of a cluster's body names (in capitals on shouting lines)."""
    taken = [(s.start, s.end) for c in clusters for s in c.spans if not s.in_title]
    for cluster in clusters:
        names = {s.name for s in cluster.spans if s.votes and len(s.name) >= min_chars}
        for name in sorted(names, key=len, reverse=True):
            same_case = re.finditer(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text)
            loud = (m for a, b in shouting
                    for m in re.finditer(rf"(?<![\w.-]){re.escape(name.upper())}(?![\w-])", text[:b]) if m.start() >= a)
            for match in [*same_case, *loud]:
                start, end = match.span()
                if any(start < t_end and t_start < end for t_start, t_end in taken):
                    continue
                taken.append((start, end))
                label = cluster.spans[0].label
                cluster.spans.append(Span(text[start:end], name.casefold(), label, start, end, False,
                                          text[start:end], propagated=True))


def propagate_title(clusters: list[Cluster], title: str) -> None:
    """Rule 4 for the title: body names (and a person's surname) the tagger missed in the headline."""
    taken = [(s.start, s.end) for c in clusters for s in c.spans if s.in_title]
    for cluster in clusters:
        names = {s.name for s in cluster.spans if s.votes and len(s.name) >= 2}
        if cluster.entity_type() == "person":
            names |= {name.split()[-1] for name in names}
        for name in sorted(names, key=len, reverse=True):
            for match in re.finditer(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", title):
                if not any(match.start() < b and a < match.end() for a, b in taken):
                    taken.append(match.span())
                    cluster.spans.append(Span(name, name.casefold(), cluster.spans[0].label, match.start(),
                                              match.end(), True, name, propagated=True))


_ACRONYM = re.compile(r"\(([A-Z][A-Za-z]?[A-Z]{1,6}s?)\)")


def _initials(words: list[str]) -> str:
    return "".join(part[0] for word in words for part in re.split("[-\u2010]", word) if part)


def find_acronyms(text: str) -> list[tuple[str, int, int]]:
    """Rule 2: (acronym, expansion start, expansion end) of every ``Long Name (LN)`` whose initials spell it."""
    found = []
    for match in _ACRONYM.finditer(text):
        acronym = match.group(1)[:-1] if match.group(1).endswith("s") else match.group(1)
        window_start = max(0, match.start() - 200)
        words = list(re.finditer(r"\S+", text[window_start:match.start()]))
        for size in range(1, min(len(words), 10) + 1):
            candidate = [w.group().strip(",;:") for w in words[-size:]]
            if not candidate[0][:1].isupper():
                continue
            capitalised = [w for w in candidate if w[:1].isupper()]
            if acronym.casefold() in (_initials(candidate).casefold(), _initials(capitalised).casefold()):
                start = window_start + words[-size].start()
                found.append((acronym, start, window_start + words[-1].start() + len(candidate[-1])))
                break
    return found
