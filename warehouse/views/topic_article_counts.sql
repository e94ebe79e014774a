-- Every topic with how many articles have it as their top topic, and their mean score.
create or replace view topic_article_counts as
select
    topics.topic_id,
    topics.label,
    topics.taxonomy_version,
    count(*) as articles,
    avg(article_topics.score) as mean_score
from article_topics
inner join topics
    on topics.topic_id = article_topics.topic_id
    and topics.taxonomy_version = article_topics.taxonomy_version
where article_topics.rank = 1
group by topics.topic_id, topics.label, topics.taxonomy_version
order by articles desc, topics.label
