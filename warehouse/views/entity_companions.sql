-- entity_companions('Name'): the entities named in the same articles as the entity called 'Name' (latest
-- versions; every entity of that name when several types share it), with how many articles and stories
-- name both and when they last did, most frequent first. A table macro: it reads the entity lists that
-- article_facts keeps per article (entity_keys, the entities' 64-bit entity_key), so it never builds
-- the pairs of all entities (entity_cooccurrence does) nor joins article_entities. An article naming two
-- entities of that name is taken once (under the first); stories are counted as articles less the extra
-- articles of one story, so only the stories with several of these articles are grouped by story.
create or replace macro entity_companions(entity_name) as table
with asked as (
    select
        entities.entity_key,
        list(entities.entity_key) over (
            order by entities.entity_key rows between unbounded preceding and 1 preceding
        ) as earlier_keys
    from entities
    where entities.name = entity_name
),

its_articles as (
    select article_facts.cluster_key, article_facts.article_date, article_facts.entity_keys
    from article_facts, asked
    where article_facts.is_latest
        and list_contains(article_facts.entity_keys, asked.entity_key)
        and (asked.earlier_keys is null or not list_has_any(article_facts.entity_keys, asked.earlier_keys))
),

named as materialized (
    select unnest(its_articles.entity_keys) as entity_key, its_articles.cluster_key, its_articles.article_date
    from its_articles
),

companions as (
    select named.entity_key, count(*) as articles, max(named.article_date) as last_day
    from named
    where named.entity_key not in (select asked.entity_key from asked)
    group by named.entity_key
),

shared_stories as (
    select its_articles.cluster_key
    from its_articles
    group by its_articles.cluster_key
    having count(*) > 1
),

repeats as (
    select in_story.entity_key, sum(in_story.articles - 1) as extra
    from (
        select named.entity_key, named.cluster_key, count(*) as articles
        from named
        where named.cluster_key in (select shared_stories.cluster_key from shared_stories)
        group by named.entity_key, named.cluster_key
    ) as in_story
    group by in_story.entity_key
)

select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    companions.articles,
    companions.articles - coalesce(repeats.extra, 0)::bigint as stories,
    companions.last_day
from companions
inner join entities on entities.entity_key = companions.entity_key
left join repeats on repeats.entity_key = companions.entity_key
order by companions.articles desc, entities.name
