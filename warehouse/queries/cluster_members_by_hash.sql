-- The earliest clustered article with each of these content hashes (an exact copy joins its cluster).
select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from articles
inner join article_clusters on article_clusters.article_id = articles.article_id
where list_contains(?::varchar[], articles.content_hash)
qualify row_number() over (partition by articles.content_hash order by articles.first_seen_at, articles.article_id) = 1
order by articles.first_seen_at, articles.article_id
