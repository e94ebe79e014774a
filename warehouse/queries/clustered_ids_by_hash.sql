-- The earliest clustered article with each of these content hashes (an exact copy joins its cluster).
select articles.article_id
from articles
where list_contains(?::varchar[], articles.content_hash)
    and exists (select 1 from article_clusters where article_clusters.article_id = articles.article_id)
qualify row_number() over (partition by articles.content_hash order by articles.first_seen_at, articles.article_id) = 1
