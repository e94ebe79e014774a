"""Enrichment of a batch of articles: entities, salience, keyphrases and topics, each with its enricher's version.

The entity enricher's name (spaCy model, rules and gazetteer versions) goes on mentions, salience and
keyphrase rows; the topic enricher's (embedding model, scorer and taxonomy version) on topic scores.
:func:`stale_enrichers` says whether stored rows were made by other versions, which is what the
``reenrich`` flow looks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadsheet.config.entity_aliases import load_alias_corrections
from broadsheet.config.records import Article, Enrichment
from broadsheet.config.settings import Settings
from broadsheet.tasks.enrich import entities, topics
from broadsheet.tasks.enrich.embeddings import embedding_model
from broadsheet.tasks.enrich.topic_head import load_head


@dataclass(frozen=True)
class Enrichers:
    """The names and versions current settings enrich with."""

    entity: str
    topic: str
    taxonomy_version: str


def current_enrichers(settings: Settings) -> Enrichers:
    taxonomy = topics.taxonomy_for(settings.topics)
    aliases = load_alias_corrections(settings.entities.aliases_file)
    return Enrichers(entities.enricher_name(settings.entities, aliases.version),
                     topics.enricher_name(settings.topics, taxonomy), taxonomy.version)


def load_models(settings: Settings) -> None:
    """Load (and cache in this process) the models ``settings`` enrich with."""
    entities.load_models(settings.entities, keyphrases=settings.topics.keyphrases > 0)
    taxonomy = topics.taxonomy_for(settings.topics)
    head = load_head()
    topics.prototypes(settings.topics, topics.zero_shot_taxonomy(taxonomy, head))


def enrich_articles(articles: list[Article], settings: Settings) -> list[Enrichment]:
    """Entities, mentions, salience, keyphrases and topic scores of every article, in order."""
    if not articles:
        return []
    taxonomy = topics.taxonomy_for(settings.topics)
    analysed = entities.analyse_articles(articles, settings.entities, settings.topics.keyphrases)
    vectors, results = topics.embed_and_score(articles, settings.topics, taxonomy)
    enrichers = current_enrichers(settings)
    model = embedding_model(settings.topics.model).name
    return [
        Enrichment(article.article_id, found, mentions, scored.topics, enrichers.entity, enrichers.topic,
                   taxonomy.version, salience, phrases, tuple(round(float(x), 6) for x in vector), model,
                   scored.subtopics)
        for article, ((found, mentions, salience), phrases), scored, vector
        in zip(articles, analysed, results, vectors, strict=True)
    ]


def stale_articles(settings: Settings, max_articles: int | None = None) -> list[str]:
    """Ids of stored articles enriched by other enricher versions than the current settings', oldest first
    (no models loaded, no Prefect: ``reenrich --dry-run`` answers with this alone)."""
    from broadsheet.warehouse.connection import connected  # here: workers never load DuckDB (35 MB each)
    from broadsheet.warehouse.enrichments import stale_article_ids

    enrichers = current_enrichers(settings)
    with connected(settings.warehouse) as conn:  # a writer: an older warehouse is migrated first
        return stale_article_ids(conn, enrichers.entity, enrichers.topic, max_articles)
