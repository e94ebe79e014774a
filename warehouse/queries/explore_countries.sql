-- Countries on the map: per ISO country code, the selection's stories and articles that name a place
-- in it (the country itself, a region or a city).
select
    entities.country_code,
    count(distinct selection.cluster_id) as stories,
    count(distinct selection.article_id) as articles
from selection
inner join article_entities on article_entities.article_id = selection.article_id
inner join entities on entities.entity_id = article_entities.entity_id
where entities.entity_type = 'place' and entities.country_code is not null
group by entities.country_code
order by stories desc, entities.country_code
