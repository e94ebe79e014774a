-- Per day and topic: latest article versions whose top topic it is, stories (duplicate clusters),
-- and their mean score; the article's date is its publication day (first seen, when undated). Read
-- from topic_day_stories, which each load keeps (one row per day, topic and story; migration 0012).
create or replace view topic_trends as
select
    topic_day_stories.day,
    topic_day_stories.topic_id,
    topic_day_stories.label,
    sum(topic_day_stories.articles)::bigint as articles,
    count(*) as stories,
    (sum(topic_day_stories.score_sum) / sum(topic_day_stories.articles))::double as mean_score
from topic_day_stories
group by topic_day_stories.day, topic_day_stories.topic_id, topic_day_stories.label
