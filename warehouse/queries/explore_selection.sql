-- The explorer's selection: the latest article versions its panels describe, as their article_facts keys
-- (article_key, cluster_key: 64-bit keys of the article and story ids), day and source. $ids, when not
-- null, are the search's hits (BM25 or semantic); the filters are the search's own (explore_filters.sql:
-- named parameters, null means no filter). Every explore_* panel reads this temporary table, so one
-- search drives them all.
create or replace temp table selection as
select
    documents.article_key,
    documents.cluster_key,
    documents.article_date,
    documents.source_id
from article_facts as documents
where documents.is_latest
    and (cast($ids as varchar[]) is null or documents.article_id in (select unnest(cast($ids as varchar[]))))
    and {filters}
