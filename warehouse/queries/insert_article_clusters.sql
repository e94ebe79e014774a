-- Newly clustered articles, one statement per batch, from the temp table load_assigned (see
-- assign_article_clusters.sql), with their ids' 64-bit keys.
insert into article_clusters (
    article_id, cluster_id, match_kind, similarity, matched_article_id, minhash, clustered_at, article_key
)
select
    load_assigned.article_id, load_assigned.cluster_id, load_assigned.match_kind, load_assigned.similarity,
    load_assigned.matched_article_id, load_assigned.minhash, load_assigned.clustered_at,
    md5_number_lower(load_assigned.article_id)
from load_assigned
