-- Newly clustered articles, one statement per batch. Bound parameters, lists in the same order: article
-- ids, cluster ids, match kinds, similarities, matched article ids, MinHash signatures (DuckDB list
-- text, cast here); then the time they were clustered.
insert into article_clusters
select
    unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::varchar[]), unnest(?::double[]),
    unnest(?::varchar[]), unnest(?::integer[][]), ?::timestamptz
