-- The clustered articles with these ids, oldest first (for a canonical URL the last is its latest version).
-- A filter, not a join: a join with the ids would hash every row of article_clusters, signatures included.
select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from article_clusters
inner join articles on articles.article_id = article_clusters.article_id
where list_contains(?::varchar[], article_clusters.article_id)
    and list_contains(?::varchar[], articles.article_id)
order by articles.first_seen_at, articles.article_id
