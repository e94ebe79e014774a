-- The clusters a load assigns, in the temp table load_assigned (inserted into article_clusters, and read by
-- the article facts). Bound parameters, lists in the same order: article ids, cluster ids, match kinds,
-- similarities, matched article ids, MinHash signatures (DuckDB list text, cast here); then the time
-- they were clustered.
create or replace temp table load_assigned as
select
    unnest(?::varchar[]) as article_id, unnest(?::varchar[]) as cluster_id, unnest(?::varchar[]) as match_kind,
    unnest(?::double[]) as similarity, unnest(?::varchar[]) as matched_article_id,
    unnest(?::integer[][]) as minhash, ?::timestamptz as clustered_at
