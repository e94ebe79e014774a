-- Entities named in the same latest article versions as this one, by the stories they share (as the
-- entity_cooccurrence view counts them, for this entity only), from the entity lists article_facts keeps
-- per article. A companion's stories are its articles less the extra articles of one story, so only the
-- stories with several articles (story_clusters' copies) are grouped by story.
with asked as (
    select entities.entity_key
    from entities
    where entities.entity_id = $entity
),

named as materialized (
    select unnest(facts.entity_keys) as entity_key, facts.cluster_key, facts.article_date
    from article_facts as facts, asked
    where facts.is_latest and list_contains(facts.entity_keys, asked.entity_key)
),

companions as (
    select named.entity_key, count(*) as articles, max(named.article_date) as last_day
    from named
    where named.entity_key not in (select asked.entity_key from asked)
    group by named.entity_key
),

repeats as (
    select in_story.entity_key, sum(in_story.articles - 1) as extra
    from (
        select named.entity_key, named.cluster_key, count(*) as articles
        from named
        where named.cluster_key in (
            select story_clusters.cluster_key from story_clusters where story_clusters.copies > 1
        )
        group by named.entity_key, named.cluster_key
    ) as in_story
    group by in_story.entity_key
),

counted as (
    select
        companions.entity_key,
        companions.articles - coalesce(repeats.extra, 0)::bigint as stories,
        companions.articles,
        companions.last_day
    from companions
    left join repeats on repeats.entity_key = companions.entity_key
)

select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    counted.stories,
    counted.articles,
    counted.last_day
from counted
inner join entities on entities.entity_key = counted.entity_key
order by counted.stories desc, counted.articles desc, entities.name
limit 25
