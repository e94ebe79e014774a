-- The entity's mentions over time: per day, the latest article versions and stories that name it and
-- its mentions in their bodies (as daily_entity_counts counts them, from the entity lists article_facts
-- keeps per article).
with asked as (
    select entities.entity_key
    from entities
    where entities.entity_id = $entity
),

naming as (
    select
        facts.article_date,
        facts.cluster_key,
        facts.entity_mentions[list_position(facts.entity_keys, asked.entity_key)] as mentions
    from article_facts as facts, asked
    where facts.is_latest and list_contains(facts.entity_keys, asked.entity_key)
)

select
    naming.article_date as day,
    count(distinct naming.cluster_key) as stories,
    count(*) as articles,
    sum(naming.mentions) as mentions
from naming
group by naming.article_date
order by day
