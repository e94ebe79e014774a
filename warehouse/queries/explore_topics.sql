-- Top topics of the selection: the articles whose top topic it is (the rank-1 topics article_facts lists
-- per article), and their stories and mean score.
with tagged as (
    select selection.cluster_key, unnest(facts.top_topics) as topic
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key and facts.is_latest
)

select
    tagged.topic.topic_id as topic_id,
    tagged.topic.label as label,
    count(distinct tagged.cluster_key) as stories,
    count(*) as articles,
    round(avg(tagged.topic.score), 3) as mean_score
from tagged
group by tagged.topic.topic_id, tagged.topic.label
order by stories desc, articles desc, tagged.topic.label
limit 20
