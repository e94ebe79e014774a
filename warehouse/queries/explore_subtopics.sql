-- Top IPTC subtopics of the selection (each article's best subtopic under each of its topics, as
-- article_facts lists them), with their level-2 ancestor, stories and articles. Stories are counted as in
-- explore_topics.sql: articles less the extra articles of one story.
with shared_stories as (
    select story_clusters.cluster_key
    from story_clusters
    where story_clusters.copies > 1
),

tagged as materialized (
    select
        selection.cluster_key,
        shared_stories.cluster_key is not null as shared,
        unnest(facts.top_subtopics) as subtopic
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
    left join shared_stories on shared_stories.cluster_key = selection.cluster_key
),

counted as (
    select
        tagged.subtopic.iptc_code as iptc_code,
        tagged.subtopic.label as label,
        tagged.subtopic.level2_label as level2_label,
        count(*) as articles
    from tagged
    group by tagged.subtopic.iptc_code, tagged.subtopic.label, tagged.subtopic.level2_label
),

repeats as (
    select in_story.iptc_code, in_story.label, in_story.level2_label, sum(in_story.articles - 1) as extra
    from (
        select
            tagged.subtopic.iptc_code as iptc_code,
            tagged.subtopic.label as label,
            tagged.subtopic.level2_label as level2_label,
            tagged.cluster_key,
            count(*) as articles
        from tagged
        where tagged.shared
        group by tagged.subtopic.iptc_code, tagged.subtopic.label, tagged.subtopic.level2_label, tagged.cluster_key
    ) as in_story
    group by in_story.iptc_code, in_story.label, in_story.level2_label
)

select
    counted.iptc_code,
    counted.label,
    counted.level2_label,
    counted.articles - coalesce(repeats.extra, 0)::bigint as stories,
    counted.articles
from counted
left join repeats
    on repeats.iptc_code = counted.iptc_code
    and repeats.label = counted.label
    and repeats.level2_label = counted.level2_label
order by stories desc, counted.articles desc, counted.label
limit 20
