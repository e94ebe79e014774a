-- Attention over time: per day, the selection's stories (duplicate clusters, so a wire copy printed by
-- ten outlets counts once) and its articles.
select
    selection.article_date as day,
    count(distinct selection.cluster_id) as stories,
    count(*) as articles
from selection
group by selection.article_date
order by day
