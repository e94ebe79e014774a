"""The plain records that flow between stages: candidates, pages, articles, enrichments, rejections.

Each stage takes a list of one kind and returns a list of the next plus the rejections it made,
so a document that fails anywhere leaves a trace (stage, URL, error type, message) and the batch
goes on. Records are frozen dataclasses: easy to build in a test, safe to pass between threads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from broadsheet.config.errors import BroadsheetError

Stage = Literal["discover", "fetch", "extract", "enrich", "load"]
EntityType = Literal["person", "organization", "place"]
ENTITY_TYPES: tuple[EntityType, ...] = ("person", "organization", "place")


@dataclass(frozen=True)
class Candidate:
    """A document to fetch or read: an http(s) URL, or a ``file://`` URL of a local file."""

    url: str
    source: str
    title_hint: str | None = None
    published_hint: datetime | None = None
    modified_hint: datetime | None = None  # a sitemap's lastmod: unchanged since our last fetch means skip
    archive: ArchiveRef | None = None  # read from this WARC/ARC record instead of the network


@dataclass(frozen=True)
class ArchiveRef:
    """Where a document lies in a WARC or ARC file: the file and the record's byte offset."""

    path: str
    offset: int


@dataclass(frozen=True)
class Validators:
    """What the warehouse knows of a URL's last successful fetch, for conditional requests."""

    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    fetched_at: datetime | None


@dataclass(frozen=True)
class Page:
    """Raw bytes of a document as fetched or read, before extraction."""

    url: str
    final_url: str
    source: str
    content: bytes
    content_type: str
    fetched_at: datetime
    title_hint: str | None = None
    published_hint: datetime | None = None
    charset: str | None = None  # as declared by the Content-Type header, which may be wrong

    @property
    def page_id(self) -> str:
        """Stable id of these bytes at this URL."""
        digest = hashlib.sha256(self.final_url.encode() + b"\n" + self.content).hexdigest()
        return digest[:32]


@dataclass(frozen=True)
class FetchRecord:
    """One HTTP request made (a row of ``fetches``)."""

    url: str
    final_url: str | None
    status_code: int | None
    content_type: str | None
    bytes_read: int
    etag: str | None
    last_modified: str | None
    started_at: datetime
    elapsed_ms: float
    error_type: str | None = None
    error_message: str | None = None
    body_sha256: str | None = None  # of a complete 200 body: tells an unchanged feed without validators


@dataclass(frozen=True)
class Rejection:
    """A document that failed at a stage (a row of ``rejections``)."""

    stage: Stage
    url: str
    source: str
    error_type: str
    message: str
    transient: bool = False

    @classmethod
    def from_error(cls, stage: Stage, url: str, source: str, error: BroadsheetError) -> Rejection:
        return cls(stage, url, source, error.code, error.message, error.transient)


@dataclass(frozen=True)
class Article:
    """One version of an article: extracted text and metadata."""

    article_id: str
    url: str
    canonical_url: str
    source: str
    title: str | None
    authors: tuple[str, ...]
    published_at: datetime | None
    language: str | None
    site: str | None
    text: str
    content_hash: str
    fetched_at: datetime
    extractor: str
    page_id: str | None = None


@dataclass(frozen=True)
class Mention:
    """An entity named in an article: its surface form and character span in the title or text."""

    entity_id: str
    surface: str
    start_char: int
    end_char: int
    in_title: bool


@dataclass(frozen=True)
class Entity:
    """A resolved entity, keyed across the warehouse by type and normalised name."""

    entity_id: str
    name: str
    entity_type: EntityType
    normalized_name: str
    country_code: str | None = None   # ISO 3166-1 alpha-2, for places the gazetteer knows
    latitude: float | None = None
    longitude: float | None = None
    gazetteer_id: str | None = None   # "country:AL", "city:3183875" ...


@dataclass(frozen=True)
class Salience:
    """How prominent an entity is in one article: in the title, in the first paragraph, how often."""

    entity_id: str
    mentions: int
    in_title: bool
    in_lead: bool
    first_char: int
    score: float


@dataclass(frozen=True)
class Keyphrase:
    phrase: str
    score: float
    rank: int


@dataclass(frozen=True)
class TopicScore:
    topic_id: str
    score: float
    rank: int


@dataclass(frozen=True)
class SubtopicScore:
    """One IPTC subtopic of an article under one of its topics (``rank`` 1 is the best under that topic)."""

    topic_id: str
    iptc_code: str
    label: str
    level: int
    level2_code: str
    level2_label: str
    score: float
    rank: int


@dataclass(frozen=True)
class Enrichment:
    """What the enrichers found in one article."""

    article_id: str
    entities: tuple[Entity, ...]
    mentions: tuple[Mention, ...]
    topics: tuple[TopicScore, ...]
    entity_enricher: str
    topic_enricher: str
    taxonomy_version: str
    salience: tuple[Salience, ...] = ()
    keyphrases: tuple[Keyphrase, ...] = ()
    embedding: tuple[float, ...] = ()  # the vector the topic stage embedded the lead into (for semantic search)
    embedding_model: str = ""
    subtopics: tuple[SubtopicScore, ...] = ()


@dataclass
class Discovery:
    """What discovery found: candidates to fetch, pages already fetched, and failures."""

    candidates: list[Candidate] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # feeds and sitemaps not changed since the last run

    def extend(self, other: Discovery) -> None:
        self.candidates += other.candidates
        self.pages += other.pages
        self.fetches += other.fetches
        self.rejections += other.rejections
        self.unchanged += other.unchanged


@dataclass(frozen=True)
class Rekey:
    """A stored article replaced by its re-extraction: its old and new id and canonical URL.

    ``keep_enrichment``: the text and title did not change, so its enrichment rows move to the new id;
    otherwise they are dropped and the article is enriched again.
    """

    old_article_id: str
    new_article_id: str
    old_canonical_url: str
    new_canonical_url: str
    keep_enrichment: bool


@dataclass
class Batch:
    """What one batch produced, ready to load in one transaction."""

    articles: list[Article] = field(default_factory=list)
    enrichments: list[Enrichment] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    fetches: list[FetchRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    reenriched: list[str] = field(default_factory=list)  # loaded articles whose enrichment rows are replaced
    rekeyed: list[Rekey] = field(default_factory=list)  # stored articles this batch's articles replace
