-- Cities on the map: every city (gazetteer place with coordinates) the selection names, with its
-- stories and articles, from the cities article_facts lists per article (city_keys). Stories are counted
-- as in explore_countries.sql: articles less the extra articles of one story.
with shared_stories as (
    select story_clusters.cluster_key
    from story_clusters
    where story_clusters.copies > 1
),

named as materialized (
    select
        selection.cluster_key,
        shared_stories.cluster_key is not null as shared,
        unnest(facts.city_keys) as entity_key
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
    left join shared_stories on shared_stories.cluster_key = selection.cluster_key
),

counted as (
    select named.entity_key, count(*) as articles
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
)

select
    entities.entity_id,
    entities.name,
    entities.country_code,
    entities.latitude,
    entities.longitude,
    counted.articles - coalesce(repeats.extra, 0)::bigint as stories,
    counted.articles
from counted
inner join entities on entities.entity_key = counted.entity_key
left join repeats on repeats.entity_key = counted.entity_key
order by stories desc, entities.name
limit 500
