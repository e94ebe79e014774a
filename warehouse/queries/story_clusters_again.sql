-- The story_clusters rows of the touched clusters (load_stories), recomputed from their latest article
-- versions as migration 0012 builds them, in steps that read only integers, times and dictionary-coded
-- columns of article_facts (its ids are long strings, expensive to decode for a million rows): the
-- counts and times per cluster, and the members that appeared first, one of which is the original
-- (story_clusters_names.sql then names them).
create or replace temp table story_firsts as
with members as materialized (
    select
        article_facts.cluster_key, article_facts.article_key, article_facts.source_id, article_facts.appeared_at,
        article_facts.url_match_kind
    from article_facts
    where article_facts.is_latest
        and article_facts.cluster_key in (select load_stories.cluster_key from load_stories)
),

clusters as (
    select
        members.cluster_key,
        min(members.appeared_at) as first_appeared_at,
        max(members.appeared_at) as last_appeared_at,
        count(*) as copies,
        count(distinct members.source_id) as sources,
        count(*) filter (where members.url_match_kind = 'exact') as exact_copies,
        count(*) filter (where members.url_match_kind = 'near') as near_copies
    from members
    group by members.cluster_key
)

select clusters.*, members.article_key, members.source_id
from clusters
inner join members
    on members.cluster_key = clusters.cluster_key
    and members.appeared_at = clusters.first_appeared_at
