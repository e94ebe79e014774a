-- Entities named in the same latest article versions as this one, by the stories they share (as the
-- entity_cooccurrence view counts them, for this entity only), from the entity lists article_facts keeps
-- per article.
with asked as (
    select entities.entity_key
    from entities
    where entities.entity_id = $entity
),

named as (
    select unnest(facts.entity_keys) as entity_key, facts.article_key, facts.cluster_key, facts.article_date
    from article_facts as facts, asked
    where facts.is_latest and list_contains(facts.entity_keys, asked.entity_key)
),

companions as (
    select
        named.entity_key,
        count(distinct named.article_key) as articles,
        count(distinct named.cluster_key) as stories,
        max(named.article_date) as last_day
    from named
    where named.entity_key not in (select asked.entity_key from asked)
    group by named.entity_key
)

select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    companions.stories,
    companions.articles,
    companions.last_day
from companions
inner join entities on entities.entity_key = companions.entity_key
order by companions.stories desc, companions.articles desc, entities.name
limit 25
