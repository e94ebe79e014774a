-- Every surface form the entity was found under: the evidence of its merges (as entity_alias_evidence
-- counts them, for this entity only: every article version, first seen as article_facts records it).
with found as (
    select mentions.article_id, mentions.surface
    from mentions
    where mentions.entity_id = $entity
        and exists (select 1 from entities where entities.entity_id = $entity)
)

select
    found.surface as alias,
    count(*) as mentions,
    count(distinct found.article_id) as articles,
    min(facts.first_seen_at) as first_seen_at
from found
inner join article_facts as facts on facts.article_id = found.article_id
group by found.surface
order by mentions desc, alias
