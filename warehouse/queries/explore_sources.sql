-- Top sources of the selection: stories and articles, and how many of those stories the source
-- printed first (it holds the cluster's original).
select
    selection.source_id,
    count(distinct selection.cluster_id) as stories,
    count(*) as articles,
    count(*) filter (where duplicate_clusters.original_article_id = selection.article_id) as originals,
    min(selection.article_date) as first_day,
    max(selection.article_date) as last_day
from selection
left join duplicate_clusters on duplicate_clusters.cluster_id = selection.cluster_id
group by selection.source_id
order by stories desc, articles desc, selection.source_id
limit 20
