-- The clustered articles among these ids (found by one of the clustered_ids_by_* queries), oldest first;
-- for a canonical URL the last is its latest version. Bound parameter: the ids. Semi-joins with them: a
-- plain join hashes every row of article_clusters, signatures included.
with found as (
    select unnest(?::varchar[]) as article_id
)

select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from article_clusters
inner join articles on articles.article_id = article_clusters.article_id
where article_clusters.article_id in (select found.article_id from found)
    and articles.article_id in (select found.article_id from found)
order by articles.first_seen_at, articles.article_id
