-- The entity page's header: the entity's name, type, country and coordinates, and its totals.
select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    entities.country_code,
    entities.latitude,
    entities.longitude,
    entities.gazetteer_id,
    entity_mention_counts.articles,
    entity_mention_counts.mentions
from entities
left join entity_mention_counts on entity_mention_counts.entity_id = entities.entity_id
where entities.entity_id = $entity
