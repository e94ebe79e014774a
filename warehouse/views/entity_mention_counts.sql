-- Every entity with how many articles and mentions name it, most mentioned first. The counts are kept by
-- each load in entity_mention_totals (migration 0012).
create or replace view entity_mention_counts as
select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    entity_mention_totals.articles,
    entity_mention_totals.mentions
from entities
inner join entity_mention_totals on entity_mention_totals.entity_id = entities.entity_id
order by entity_mention_totals.mentions desc, entities.name
