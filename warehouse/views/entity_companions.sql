-- entity_companions('Name'): the entities named in the same articles as the entity called 'Name' (latest
-- versions; every entity of that name when several types share it), with how many articles and stories
-- name both and when they last did, most frequent first. A table macro: it reads the entity lists that
-- article_facts keeps per article (entity_keys, 64-bit keys of the entity ids), so it never builds the
-- pairs of all entities (entity_cooccurrence does) nor joins article_entities.
create or replace macro entity_companions(entity_name) as table
with asked as (
    select list(md5_number_lower(entities.entity_id)) as entity_keys
    from entities
    where entities.name = entity_name
),

named as (
    select unnest(article_facts.entity_keys) as entity_key, article_facts.cluster_key, article_facts.article_date
    from article_facts, asked
    where article_facts.is_latest and list_has_any(article_facts.entity_keys, asked.entity_keys)
),

per_story as (
    select named.entity_key, named.cluster_key, count(*) as articles, max(named.article_date) as last_day
    from named, asked
    where not list_contains(asked.entity_keys, named.entity_key)
    group by named.entity_key, named.cluster_key
),

companions as (
    select
        per_story.entity_key,
        sum(per_story.articles)::bigint as articles,
        count(*) as stories,
        max(per_story.last_day) as last_day
    from per_story
    group by per_story.entity_key
)

select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    companions.articles,
    companions.stories,
    companions.last_day
from companions
inner join entities on md5_number_lower(entities.entity_id) = companions.entity_key
order by companions.articles desc, entities.name
