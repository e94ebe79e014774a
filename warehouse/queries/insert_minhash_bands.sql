-- The LSH band keys of newly clustered articles, one row per key. Bound parameters: the articles'
-- band-key lists as DuckDB list text (cast here) and their ids, in the same order.
insert into minhash_bands
select unnest(bands.keys), bands.article_id
from (select unnest(?::bigint[][]) as keys, unnest(?::varchar[]) as article_id) as bands
