-- Story clusters: exact copies, near duplicates (syndicated wire copies, lightly edited reposts) and
-- revisions of one story, across runs and sources. The original is the earliest published member
-- (first seen, when undated); copies counts latest article versions in the cluster, exact_copies and
-- near_copies those whose URL joined it as a copy (a later revision of a copy still counts).
create or replace view duplicate_clusters as
with clusters as (
    select
        article_facts.cluster_id,
        arg_min(article_facts.article_id, (article_facts.appeared_at, article_facts.article_id))
            as original_article_id,
        arg_min(article_facts.source_id, (article_facts.appeared_at, article_facts.article_id))
            as original_source_id,
        min(article_facts.appeared_at) as first_appeared_at,
        max(article_facts.appeared_at) as last_appeared_at,
        count(*) as copies,
        count(distinct article_facts.source_id) as sources,
        count(*) filter (where article_facts.url_match_kind = 'exact') as exact_copies,
        count(*) filter (where article_facts.url_match_kind = 'near') as near_copies
    from article_facts
    where article_facts.is_latest
    group by article_facts.cluster_id
)

select
    clusters.cluster_id,
    clusters.original_article_id,
    articles.title as original_title,
    clusters.original_source_id,
    clusters.first_appeared_at,
    clusters.last_appeared_at,
    clusters.copies,
    clusters.sources,
    clusters.exact_copies,
    clusters.near_copies
from clusters
inner join articles on articles.article_id = clusters.original_article_id
order by clusters.copies desc, clusters.first_appeared_at
