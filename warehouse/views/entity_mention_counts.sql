-- Every entity with how many articles and mentions name it, most mentioned first.
create or replace view entity_mention_counts as
with counted as (
    select
        mentions.entity_id,
        count(distinct mentions.article_id) as articles,
        count(*) as mentions
    from mentions
    group by mentions.entity_id
)
select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    counted.articles,
    counted.mentions
from entities
inner join counted on counted.entity_id = entities.entity_id
order by counted.mentions desc, entities.name
