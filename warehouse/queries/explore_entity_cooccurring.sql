-- Entities named in the same articles as this one, by the stories they share.
select
    case when entity_cooccurrence.entity_a_id = $entity then entity_cooccurrence.entity_b_id
         else entity_cooccurrence.entity_a_id end as entity_id,
    case when entity_cooccurrence.entity_a_id = $entity then entity_cooccurrence.entity_b
         else entity_cooccurrence.entity_a end as name,
    case when entity_cooccurrence.entity_a_id = $entity then entity_cooccurrence.entity_b_type
         else entity_cooccurrence.entity_a_type end as entity_type,
    entity_cooccurrence.stories,
    entity_cooccurrence.articles,
    entity_cooccurrence.last_day
from entity_cooccurrence
where entity_cooccurrence.entity_a_id = $entity or entity_cooccurrence.entity_b_id = $entity
order by entity_cooccurrence.stories desc, entity_cooccurrence.articles desc, name
limit 25
