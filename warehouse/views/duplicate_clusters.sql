-- Story clusters: exact copies, near duplicates (syndicated wire copies, lightly edited reposts) and
-- revisions of one story, across runs and sources. The original is the earliest published member
-- (first seen, when undated); copies counts latest article versions in the cluster, exact_copies and
-- near_copies those whose URL joined it as a copy (a later revision of a copy still counts).
create or replace view duplicate_clusters as
with members as (
    select
        article_versions.cluster_id,
        article_versions.article_id,
        article_versions.source_id,
        article_versions.canonical_url,
        article_versions.title,
        article_versions.url_match_kind,
        coalesce(article_versions.published_at, article_versions.first_seen_at) as appeared_at
    from article_versions
    where article_versions.is_latest
)

select
    members.cluster_id,
    arg_min(members.article_id, (members.appeared_at, members.article_id)) as original_article_id,
    arg_min(members.title, (members.appeared_at, members.article_id)) as original_title,
    arg_min(members.source_id, (members.appeared_at, members.article_id)) as original_source_id,
    min(members.appeared_at) as first_appeared_at,
    max(members.appeared_at) as last_appeared_at,
    count(*) as copies,
    count(distinct members.source_id) as sources,
    count(*) filter (where members.url_match_kind = 'exact') as exact_copies,
    count(*) filter (where members.url_match_kind = 'near') as near_copies
from members
group by members.cluster_id
order by copies desc, first_appeared_at
