-- Cities on the map: every city (gazetteer place with coordinates) the selection names, with its
-- stories and articles.
select
    entities.entity_id,
    entities.name,
    entities.country_code,
    entities.latitude,
    entities.longitude,
    count(distinct selection.cluster_id) as stories,
    count(distinct selection.article_id) as articles
from selection
inner join article_entities on article_entities.article_id = selection.article_id
inner join entities on entities.entity_id = article_entities.entity_id
where entities.entity_type = 'place'
    and entities.gazetteer_id like 'city:%'
    and entities.latitude is not null
    and entities.longitude is not null
group by entities.entity_id, entities.name, entities.country_code, entities.latitude, entities.longitude
order by stories desc, entities.name
limit 500
