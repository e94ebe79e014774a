-- Per day and topic: latest article versions whose top topic it is, stories (duplicate clusters),
-- and their mean score; the article's date is its publication day (first seen, when undated).
create or replace view topic_trends as
select
    article_facts.article_date as day,
    topics.topic_id,
    topics.label,
    count(*) as articles,
    count(distinct article_facts.cluster_id) as stories,
    avg(article_topics.score) as mean_score
from article_topics
inner join article_facts
    on article_facts.article_id = article_topics.article_id
    and article_facts.is_latest
inner join topics
    on topics.topic_id = article_topics.topic_id
    and topics.taxonomy_version = article_topics.taxonomy_version
where article_topics.rank = 1
group by article_facts.article_date, topics.topic_id, topics.label
