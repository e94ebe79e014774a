-- Clustered articles sharing at least one MinHash band key with these (near-duplicate candidates):
-- per key the latest ? of them (CANDIDATES_PER_BAND), so a story copied thousands of times stays cheap.
-- The band rows are found first, and only their articles are read: joining the band rows to articles
-- directly hashed every stored article on each load.
with matched as materialized (
    select minhash_bands.band_key, minhash_bands.article_id
    from minhash_bands
    where minhash_bands.band_key in (select unnest(?::bigint[]))
),

seen as (
    select articles.article_id, articles.first_seen_at
    from articles
    where articles.article_id in (select matched.article_id from matched)
)

select distinct matched.article_id
from matched
inner join seen on seen.article_id = matched.article_id
qualify row_number() over (
    partition by matched.band_key order by seen.first_seen_at desc, seen.article_id desc
) <= ?
