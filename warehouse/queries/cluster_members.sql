-- The clustered articles a lookup found (`found`: one of the clustered_ids_by_* queries), oldest first;
-- for a canonical URL the last is its latest version. Semi-joins with `found`: a plain join with it
-- hashes every row of article_clusters, signatures included.
select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from article_clusters
inner join articles on articles.article_id = article_clusters.article_id
where article_clusters.article_id in (select article_id from found)
    and articles.article_id in (select article_id from found)
order by articles.first_seen_at, articles.article_id
