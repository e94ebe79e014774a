-- Per day and entity: latest article versions that name it, stories (duplicate clusters, so a wire
-- copy printed by ten outlets counts once), and mentions in the body.
create or replace view daily_entity_counts as
select
    article_facts.article_date as day,
    entities.entity_id,
    entities.name,
    entities.entity_type,
    count(*) as articles,
    count(distinct article_facts.cluster_id) as stories,
    sum(article_entities.mentions) as mentions
from article_entities
inner join article_facts
    on article_facts.article_id = article_entities.article_id
    and article_facts.is_latest
inner join entities on entities.entity_id = article_entities.entity_id
group by article_facts.article_date, entities.entity_id, entities.name, entities.entity_type
