"""Enrichment of a batch of articles: entities and topics, each tagged with its enricher's version."""

from __future__ import annotations

from broadsheet.config.settings import Settings
from broadsheet.tasks import entities, topics
from broadsheet.tasks.records import Article, Enrichment


def enrich_articles(articles: list[Article], settings: Settings) -> list[Enrichment]:
    """Entities, mentions and topic scores of every article, in order."""
    if not articles:
        return []
    taxonomy = topics.taxonomy_for(settings.topics)
    tagged = entities.tag_entities(articles, settings.entities)
    scored = topics.score_topics(articles, settings.topics, taxonomy)
    entity_enricher = entities.enricher_name(settings.entities.model)
    topic_enricher = topics.enricher_name(settings.topics, taxonomy)
    return [
        Enrichment(article.article_id, found, mentions, ranked, entity_enricher, topic_enricher, taxonomy.version)
        for article, (found, mentions), ranked in zip(articles, tagged, scored, strict=True)
    ]
