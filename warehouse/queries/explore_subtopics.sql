-- Top IPTC subtopics of the selection (each article's best subtopic under each of its topics, as
-- article_facts lists them), with their level-2 ancestor, stories and articles.
with tagged as (
    select selection.cluster_key, unnest(facts.top_subtopics) as subtopic
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key and facts.is_latest
)

select
    tagged.subtopic.iptc_code as iptc_code,
    tagged.subtopic.label as label,
    tagged.subtopic.level2_label as level2_label,
    count(distinct tagged.cluster_key) as stories,
    count(*) as articles
from tagged
group by tagged.subtopic.iptc_code, tagged.subtopic.label, tagged.subtopic.level2_label
order by stories desc, articles desc, tagged.subtopic.label
limit 20
