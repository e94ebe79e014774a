-- Clustered articles sharing at least one MinHash band key with these (near-duplicate candidates):
-- per key the latest ? of them (CANDIDATES_PER_BAND), so a story copied thousands of times stays cheap.
select distinct minhash_bands.article_id
from minhash_bands
inner join articles on articles.article_id = minhash_bands.article_id
where minhash_bands.band_key in (select unnest(?::bigint[]))
qualify row_number() over (
    partition by minhash_bands.band_key order by articles.first_seen_at desc, articles.article_id desc
) <= ?
