-- The clustered articles a batch's new articles are compared with (warehouse/duplicates.py), from the rows
-- of article_facts and article_clusters read into seen_facts and seen_clusters: every version at one of
-- their canonical URLs; per content hash, the earliest; per MinHash band key, the latest ? of those sharing
-- it (CANDIDATES_PER_BAND, so a story copied thousands of times stays cheap). In that order, each oldest
-- first, with the lookup that found it (1 URL, 2 hash, 3 band). Signatures are joined last: only the
-- articles found are returned, once per lookup.
with members as (
    select
        seen_facts.article_id, seen_clusters.cluster_id, seen_facts.canonical_url, seen_facts.hash_key,
        seen_clusters.minhash, seen_facts.first_seen_at
    from seen_facts
    inner join seen_clusters on seen_clusters.article_id = seen_facts.article_id
),

by_url as (
    select 1 as lookup, members.article_id, members.first_seen_at
    from members
    where members.canonical_url in (select lookup_keys.value from lookup_keys where lookup_keys.kind = 'url')
),

by_hash as (
    select 2 as lookup, members.article_id, members.first_seen_at
    from members
    where members.hash_key::varchar in (select lookup_keys.value from lookup_keys where lookup_keys.kind = 'hash')
    qualify row_number() over (partition by members.hash_key order by members.first_seen_at, members.article_id) = 1
),

by_band as (
    select 3 as lookup, members.article_id, members.first_seen_at
    from band_hits
    inner join members on members.article_id = band_hits.article_id
    qualify row_number() over (
        partition by band_hits.band_key order by members.first_seen_at desc, members.article_id desc
    ) <= ?
),

found as (
    select distinct lookup, article_id, first_seen_at
    from (
        select * from by_url
        union all
        select * from by_hash
        union all
        select * from by_band
    ) as any_lookup
)

select found.lookup, members.article_id, members.cluster_id, members.canonical_url, members.hash_key::varchar,
       members.minhash
from found
inner join members on members.article_id = found.article_id
order by found.lookup, found.first_seen_at, found.article_id
