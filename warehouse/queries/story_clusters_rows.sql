-- The story_clusters rows of the touched clusters: per cluster, its counts (story_firsts) and, of its first
-- members, the one with the smallest id as the original (as migration 0012's arg_min over appearance and
-- id). The cluster's id is that of any of its rewritten article_facts rows.
insert into story_clusters
with cluster_ids as (
    select distinct touched.cluster_key, touched.cluster_id
    from (
        select facts_new.cluster_key, facts_new.cluster_id from facts_new
        union all
        select facts_old.cluster_key, facts_old.cluster_id from facts_old
    ) as touched
),

originals as (
    select
        story_firsts.cluster_key,
        arg_min(story_names.article_id, story_names.article_id) as original_article_id,
        arg_min(story_names.title, story_names.article_id) as original_title,
        arg_min(story_firsts.source_id, story_names.article_id) as original_source_id,
        any_value(story_firsts.first_appeared_at) as first_appeared_at,
        any_value(story_firsts.last_appeared_at) as last_appeared_at,
        any_value(story_firsts.copies) as copies,
        any_value(story_firsts.sources) as sources,
        any_value(story_firsts.exact_copies) as exact_copies,
        any_value(story_firsts.near_copies) as near_copies
    from story_firsts
    inner join story_names on story_names.article_key = story_firsts.article_key
    group by story_firsts.cluster_key
)

select
    originals.cluster_key, cluster_ids.cluster_id, originals.original_article_id, originals.original_title,
    originals.original_source_id, originals.first_appeared_at, originals.last_appeared_at, originals.copies,
    originals.sources, originals.exact_copies, originals.near_copies
from originals
inner join cluster_ids on cluster_ids.cluster_key = originals.cluster_key
