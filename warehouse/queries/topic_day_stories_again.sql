-- The topic_day_stories rows of the touched clusters (taken out into stories_topics_old), plus the
-- rewritten latest article versions' top topics, minus those they replaced: exact, the scores being
-- summed as decimals. Groups left without articles disappear.
insert into topic_day_stories
with contributions as (
    select
        stories_topics_old.day, stories_topics_old.topic_id, stories_topics_old.label,
        stories_topics_old.cluster_key, stories_topics_old.articles, stories_topics_old.score_sum
    from stories_topics_old

    union all

    select latest.article_date, latest.topic.topic_id, latest.topic.label, latest.cluster_key, 1,
           latest.topic.score::decimal(38, 18)
    from (
        select facts_new.article_date, facts_new.cluster_key, unnest(facts_new.top_topics) as topic
        from facts_new
        where facts_new.is_latest
    ) as latest

    union all

    select latest.article_date, latest.topic.topic_id, latest.topic.label, latest.cluster_key, -1,
           -latest.topic.score::decimal(38, 18)
    from (
        select facts_old.article_date, facts_old.cluster_key, unnest(facts_old.top_topics) as topic
        from facts_old
        where facts_old.is_latest
    ) as latest
)

select day, topic_id, label, cluster_key, sum(articles)::bigint, sum(score_sum)
from contributions
group by day, topic_id, label, cluster_key
having sum(articles) > 0
