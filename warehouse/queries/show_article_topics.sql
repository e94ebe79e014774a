-- The topic scores of one article, best first.
select
    article_topics.topic_id,
    topics.label,
    article_topics.score,
    article_topics.rank
from article_topics
left join topics
    on article_topics.topic_id = topics.topic_id and article_topics.taxonomy_version = topics.taxonomy_version
where article_topics.article_id = $article_id
order by article_topics.rank
