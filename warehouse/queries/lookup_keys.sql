-- The canonical URLs and content hash keys of a batch's new articles, in the temp table lookup_keys (one
-- row each, kind 'url' or 'hash'). Bound parameters: the URLs, then the hash keys as varchar (JSON lists).
create or replace temp table lookup_keys as
select 'url' as kind, unnest(?::json::varchar[]) as value
union all
select 'hash', unnest(?::json::varchar[])
