-- Pairs of entities named in the same article (latest versions), each pair once (entity_a sorts
-- before entity_b by id), with how many articles and stories name both and when they last did.
create or replace view entity_cooccurrence as
with named as (
    select distinct
        article_entities.article_id,
        article_entities.entity_id,
        article_facts.cluster_id,
        article_facts.article_date
    from article_entities
    inner join article_facts
        on article_facts.article_id = article_entities.article_id
        and article_facts.is_latest
),

pairs as (
    select
        first_entity.entity_id as entity_a_id,
        second_entity.entity_id as entity_b_id,
        count(*) as articles,
        count(distinct first_entity.cluster_id) as stories,
        max(first_entity.article_date) as last_day
    from named as first_entity
    inner join named as second_entity
        on second_entity.article_id = first_entity.article_id
        and second_entity.entity_id > first_entity.entity_id
    group by first_entity.entity_id, second_entity.entity_id
)

select
    pairs.entity_a_id,
    entity_a.name as entity_a,
    entity_a.entity_type as entity_a_type,
    pairs.entity_b_id,
    entity_b.name as entity_b,
    entity_b.entity_type as entity_b_type,
    pairs.articles,
    pairs.stories,
    pairs.last_day
from pairs
inner join entities as entity_a on entity_a.entity_id = pairs.entity_a_id
inner join entities as entity_b on entity_b.entity_id = pairs.entity_b_id
