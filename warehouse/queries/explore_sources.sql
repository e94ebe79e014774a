-- Top sources of the selection: its stories and articles from each, and the days they span.
select
    selection.source_id,
    count(distinct selection.cluster_key) as stories,
    count(*) as articles,
    min(selection.article_date) as first_day,
    max(selection.article_date) as last_day
from selection
group by selection.source_id
order by stories desc, articles desc, selection.source_id
limit 20
