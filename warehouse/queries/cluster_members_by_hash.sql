-- Clustered articles with one of these content hashes, oldest first.
select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from articles
inner join article_clusters on article_clusters.article_id = articles.article_id
where list_contains(?::varchar[], articles.content_hash)
order by articles.first_seen_at, articles.article_id
