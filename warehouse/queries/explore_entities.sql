-- Top entities of each type in the selection, by stories, with their trend for a sparkline: stories per
-- day over the selection's days, oldest first (per so many days when that would be over 60 points).
with named as materialized (
    select
        article_entities.entity_id,
        selection.article_id,
        selection.cluster_id,
        selection.article_date,
        article_entities.mentions
    from selection
    inner join article_entities on article_entities.article_id = selection.article_id
),

ranked as (
    select
        entities.entity_id,
        entities.name,
        entities.entity_type,
        count(distinct named.cluster_id) as stories,
        count(distinct named.article_id) as articles,
        sum(named.mentions) as mentions,
        row_number() over (
            partition by entities.entity_type
            order by count(distinct named.cluster_id) desc, sum(named.mentions) desc, entities.name
        ) as type_rank
    from named
    inner join entities on entities.entity_id = named.entity_id
    group by entities.entity_id, entities.name, entities.entity_type
),

top as materialized (
    select * from ranked where ranked.type_rank <= 10
),

span as (
    select
        min(selection.article_date) as first_day,
        -- at most 60 points per trend: one per day, or per so many days when the selection spans more
        greatest(1, ceil((max(selection.article_date) - min(selection.article_date) + 1) / 60)) as bucket_days
    from selection
),

buckets as (
    select unnest(range(0, cast(ceil((max(selection.article_date) - min(selection.article_date) + 1)
                                     / any_value(span.bucket_days)) as bigint))) as bucket
    from selection, span
),

daily as (
    select
        named.entity_id,
        cast(floor((named.article_date - span.first_day) / span.bucket_days) as bigint) as bucket,
        count(distinct named.cluster_id) as stories
    from named, span
    where named.entity_id in (select top.entity_id from top)
    group by named.entity_id, bucket
),

trends as (
    select top.entity_id, list(coalesce(daily.stories, 0) order by buckets.bucket) as trend
    from top
    cross join buckets
    left join daily on daily.entity_id = top.entity_id and daily.bucket = buckets.bucket
    group by top.entity_id
)

select
    top.entity_type,
    top.type_rank,
    top.entity_id,
    top.name,
    top.stories,
    top.articles,
    top.mentions,
    trends.trend
from top
inner join trends on trends.entity_id = top.entity_id
order by top.entity_type, top.type_rank
