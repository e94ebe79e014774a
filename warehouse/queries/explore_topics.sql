-- Top topics of the selection: the articles whose top topic it is, and their stories and mean score.
select
    topics.topic_id,
    topics.label,
    count(distinct selection.cluster_id) as stories,
    count(*) as articles,
    round(avg(article_topics.score), 3) as mean_score
from selection
inner join article_topics
    on article_topics.article_id = selection.article_id
    and article_topics.rank = 1
inner join topics
    on topics.topic_id = article_topics.topic_id
    and topics.taxonomy_version = article_topics.taxonomy_version
group by topics.topic_id, topics.label
order by stories desc, articles desc, topics.label
limit 20
