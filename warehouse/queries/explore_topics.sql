-- Top topics of the selection: the articles whose top topic it is (the rank-1 topics article_facts lists
-- per article), and their stories and mean score. A topic's stories are its articles less the extra
-- articles of one story, so only the stories with several articles (story_clusters' copies) are grouped
-- by story. article_facts is joined by article_key alone: the selection holds latest versions only, and
-- an unfiltered article_facts lets DuckDB build its hash table on the selection.
with shared_stories as (
    select story_clusters.cluster_key
    from story_clusters
    where story_clusters.copies > 1
),

tagged as materialized (
    select
        selection.cluster_key,
        shared_stories.cluster_key is not null as shared,
        unnest(facts.top_topics) as topic
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
    left join shared_stories on shared_stories.cluster_key = selection.cluster_key
),

counted as (
    select
        tagged.topic.topic_id as topic_id,
        tagged.topic.label as label,
        count(*) as articles,
        round(avg(tagged.topic.score), 3) as mean_score
    from tagged
    group by tagged.topic.topic_id, tagged.topic.label
),

repeats as (
    select in_story.topic_id, in_story.label, sum(in_story.articles - 1) as extra
    from (
        select
            tagged.topic.topic_id as topic_id,
            tagged.topic.label as label,
            tagged.cluster_key,
            count(*) as articles
        from tagged
        where tagged.shared
        group by tagged.topic.topic_id, tagged.topic.label, tagged.cluster_key
    ) as in_story
    group by in_story.topic_id, in_story.label
)

select
    counted.topic_id,
    counted.label,
    counted.articles - coalesce(repeats.extra, 0)::bigint as stories,
    counted.articles,
    counted.mean_score
from counted
left join repeats on repeats.topic_id = counted.topic_id and repeats.label = counted.label
order by stories desc, counted.articles desc, counted.label
limit 20
