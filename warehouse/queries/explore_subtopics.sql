-- Top IPTC subtopics of the selection (each article's best subtopic under each of its topics), with
-- their level-2 ancestor, stories and articles.
select
    article_subtopics.iptc_code,
    article_subtopics.label,
    article_subtopics.level2_label,
    count(distinct selection.cluster_id) as stories,
    count(distinct selection.article_id) as articles
from selection
inner join article_subtopics
    on article_subtopics.article_id = selection.article_id
    and article_subtopics.rank = 1
group by article_subtopics.iptc_code, article_subtopics.label, article_subtopics.level2_label
order by stories desc, articles desc, article_subtopics.label
limit 20
