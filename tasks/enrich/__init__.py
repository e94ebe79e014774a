"""Enrich: tag articles with entities, salience, keyphrases, topic scores and their embedding.

:mod:`.enrichers` runs them all on a batch and names their versions; :mod:`.entities` (spaCy NER, with
:mod:`.resolve` and :mod:`.gazetteer`), :mod:`.keyphrases`, :mod:`.topics` and :mod:`.embeddings` do the work.
"""

from broadsheet.tasks.enrich.embeddings import embed, embedding_model
from broadsheet.tasks.enrich.enrichers import current_enrichers, enrich_articles, load_models, stale_articles
from broadsheet.tasks.enrich.topics import article_lead, score_topics, taxonomy_for

__all__ = ["article_lead", "current_enrichers", "embed", "embedding_model", "enrich_articles", "load_models",
           "score_topics", "stale_articles", "taxonomy_for"]
