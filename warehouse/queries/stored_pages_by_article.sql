-- The stored page (and its compressed body) of each article, by article id.
select
    articles.article_id,
    pages.url,
    pages.final_url,
    pages.source_id,
    pages.content_type,
    page_bodies.content_gzip
from articles
join pages on pages.page_id = articles.page_id
join page_bodies on page_bodies.page_id = articles.page_id
where list_contains($article_ids, articles.article_id)
qualify row_number() over (partition by articles.article_id order by pages.fetched_at) = 1
