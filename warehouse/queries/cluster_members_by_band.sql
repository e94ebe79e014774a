-- Clustered articles sharing at least one MinHash band key with these (near-duplicate candidates):
-- per key the latest ? of them (CANDIDATES_PER_BAND), so a story copied thousands of times stays cheap.
with candidates as (
    select distinct minhash_bands.article_id
    from minhash_bands
    inner join articles on articles.article_id = minhash_bands.article_id
    where minhash_bands.band_key in (select unnest(?::bigint[]))
    qualify row_number() over (
        partition by minhash_bands.band_key order by articles.first_seen_at desc, articles.article_id desc
    ) <= ?
)

select articles.article_id, article_clusters.cluster_id, articles.canonical_url, articles.content_hash,
       article_clusters.minhash
from candidates
inner join articles on articles.article_id = candidates.article_id
inner join article_clusters on article_clusters.article_id = candidates.article_id
order by articles.first_seen_at, articles.article_id
