-- The entity's mentions over time: per day, the latest article versions and stories that name it and
-- its mentions in their bodies.
select
    daily_entity_counts.day,
    daily_entity_counts.stories,
    daily_entity_counts.articles,
    daily_entity_counts.mentions
from daily_entity_counts
where daily_entity_counts.entity_id = $entity
order by daily_entity_counts.day
