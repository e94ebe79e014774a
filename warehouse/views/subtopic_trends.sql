-- Per day and IPTC subtopic: latest article versions tagged with it, stories (duplicate clusters), and
-- their mean score; the day is the article's publication day (first seen, when undated). Each subtopic
-- row also names its level-2 ancestor, to sum finer subtopics ("wildfire") into coarser ones ("disaster").
create or replace view subtopic_trends as
select
    article_facts.article_date as day,
    article_subtopics.topic_id,
    article_subtopics.iptc_code,
    article_subtopics.label,
    article_subtopics.level2_code,
    article_subtopics.level2_label,
    count(distinct article_subtopics.article_id) as articles,
    count(distinct article_facts.cluster_id) as stories,
    avg(article_subtopics.score) as mean_score
from article_subtopics
inner join article_facts
    on article_facts.article_id = article_subtopics.article_id
    and article_facts.is_latest
group by
    article_facts.article_date,
    article_subtopics.topic_id,
    article_subtopics.iptc_code,
    article_subtopics.label,
    article_subtopics.level2_code,
    article_subtopics.level2_label
