-- Clustered article versions at these canonical URLs, oldest first (the last is the latest version).
select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from articles
inner join article_clusters on article_clusters.article_id = articles.article_id
where list_contains(?::varchar[], articles.canonical_url)
order by articles.first_seen_at, articles.article_id
