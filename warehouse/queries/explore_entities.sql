-- Top entities of each type in the selection, by stories, with their trend for a sparkline: stories per
-- day over the selection's days, oldest first (per so many days when that would be over 60 points).
-- Entities and their body mentions come from the lists article_facts keeps per article (entity_keys and
-- entity_mentions, side by side). An entity's stories are its articles less the extra articles of one
-- story, so only the stories with several articles (story_clusters' copies) are grouped by story.
with shared_stories as (
    select story_clusters.cluster_key
    from story_clusters
    where story_clusters.copies > 1
),

named as materialized (
    select
        unnest(facts.entity_keys) as entity_key,
        unnest(facts.entity_mentions) as mentions,
        selection.cluster_key,
        selection.article_date,
        shared_stories.cluster_key is not null as shared
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
    left join shared_stories on shared_stories.cluster_key = selection.cluster_key
),

counted as (
    select named.entity_key, count(*) as articles, sum(named.mentions) as mentions
    from named
    group by named.entity_key
),

repeats as (
    select in_story.entity_key, sum(in_story.articles - 1) as extra
    from (
        select named.entity_key, named.cluster_key, count(*) as articles
        from named
        where named.shared
        group by named.entity_key, named.cluster_key
    ) as in_story
    group by in_story.entity_key
),

scored as (
    select
        entities.entity_key,
        entities.entity_id,
        entities.name,
        entities.entity_type,
        counted.articles - coalesce(repeats.extra, 0)::bigint as stories,
        counted.articles,
        counted.mentions
    from counted
    inner join entities on entities.entity_key = counted.entity_key
    left join repeats on repeats.entity_key = counted.entity_key
),

-- the tenth most stories of each type: only the entities with as many are ranked
tenth as (
    select scored.entity_type, list_min(max(scored.stories, 10)) as stories
    from scored
    group by scored.entity_type
),

ranked as (
    select
        scored.*,
        row_number() over (
            partition by scored.entity_type
            order by scored.stories desc, scored.mentions desc, scored.name
        ) as type_rank
    from scored
    inner join tenth on tenth.entity_type = scored.entity_type
    where scored.stories >= tenth.stories
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

top_named as materialized (
    select
        named.entity_key,
        named.cluster_key,
        named.shared,
        cast(floor((named.article_date - span.first_day) / span.bucket_days) as bigint) as bucket
    from named, span
    where named.entity_key in (select top.entity_key from top)
),

daily_repeats as (
    select in_story.entity_key, in_story.bucket, sum(in_story.articles - 1) as extra
    from (
        select top_named.entity_key, top_named.bucket, top_named.cluster_key, count(*) as articles
        from top_named
        where top_named.shared
        group by top_named.entity_key, top_named.bucket, top_named.cluster_key
    ) as in_story
    group by in_story.entity_key, in_story.bucket
),

daily_articles as (
    select top_named.entity_key, top_named.bucket, count(*) as articles
    from top_named
    group by top_named.entity_key, top_named.bucket
),

daily as (
    select
        daily_articles.entity_key,
        daily_articles.bucket,
        daily_articles.articles - coalesce(daily_repeats.extra, 0)::bigint as stories
    from daily_articles
    left join daily_repeats
        on daily_repeats.entity_key = daily_articles.entity_key and daily_repeats.bucket = daily_articles.bucket
),

trends as (
    select top.entity_key, list(coalesce(daily.stories, 0) order by buckets.bucket) as trend
    from top
    cross join buckets
    left join daily on daily.entity_key = top.entity_key and daily.bucket = buckets.bucket
    group by top.entity_key
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
inner join trends on trends.entity_key = top.entity_key
order by top.entity_type, top.type_rank
