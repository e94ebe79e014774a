-- Every surface form the entity was found under: the evidence of its merges.
select
    entity_alias_evidence.alias,
    entity_alias_evidence.mentions,
    entity_alias_evidence.articles,
    entity_alias_evidence.first_seen_at
from entity_alias_evidence
where entity_alias_evidence.entity_id = $entity
order by entity_alias_evidence.mentions desc, entity_alias_evidence.alias
