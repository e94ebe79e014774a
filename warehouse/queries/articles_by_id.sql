-- Stored articles by id, with every field an Article record needs (re-enrichment reads text from here).
select
    articles.article_id,
    articles.url,
    articles.canonical_url,
    articles.source_id,
    articles.title,
    articles.authors,
    articles.published_at,
    articles.language,
    articles.site,
    articles.text,
    articles.content_hash,
    articles.first_seen_at,
    articles.extractor,
    articles.page_id
from articles
where list_contains($article_ids, articles.article_id)
order by articles.article_id
