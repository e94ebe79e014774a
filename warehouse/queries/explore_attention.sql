-- Attention over time: per day from the selection's first to its last, its stories (duplicate clusters,
-- so a wire copy printed by ten outlets counts once) and its articles; days without any count zero.
with counted as (
    select
        selection.article_date as day,
        count(distinct selection.cluster_key) as stories,
        count(*) as articles
    from selection
    group by selection.article_date
),

days as (
    select cast(unnest(generate_series(min(counted.day), max(counted.day), interval 1 day)) as date) as day
    from counted
)

select
    days.day,
    coalesce(counted.stories, 0) as stories,
    coalesce(counted.articles, 0) as articles
from days
left join counted on counted.day = days.day
order by days.day
