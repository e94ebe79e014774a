-- The LSH band keys of newly clustered articles, one row per key. Bound parameter: a JSON list of objects
-- (article_id, keys).
insert into minhash_bands
select unnest(bands.keys), bands.article_id
from (select unnest(?::json::struct(article_id varchar, keys integer[])[], recursive := true)) as bands
