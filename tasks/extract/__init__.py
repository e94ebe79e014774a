"""Extract: turn fetched pages into articles (:mod:`.article`, trafilatura) and say who each article is.

:mod:`.identity` gives an article its identity: canonical URL, article id and content hash.
"""

from broadsheet.tasks.extract.article import extract_article, extract_articles, extractor_version
from broadsheet.tasks.extract.identity import article_id, content_hash

__all__ = ["article_id", "content_hash", "extract_article", "extract_articles", "extractor_version"]
