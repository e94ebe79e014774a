-- Cities on the map: every city (gazetteer place with coordinates) the selection names, with its
-- stories and articles, from the entity keys article_facts lists per article.
with cities as (
    select
        entities.entity_key, entities.entity_id, entities.name, entities.country_code, entities.latitude,
        entities.longitude
    from entities
    where entities.entity_type = 'place'
        and entities.gazetteer_id like 'city:%'
        and entities.latitude is not null
        and entities.longitude is not null
),

named as (
    select selection.article_key, selection.cluster_key, unnest(facts.entity_keys) as entity_key
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
)

select
    cities.entity_id,
    cities.name,
    cities.country_code,
    cities.latitude,
    cities.longitude,
    count(distinct named.cluster_key) as stories,
    count(distinct named.article_key) as articles
from named
inner join cities on cities.entity_key = named.entity_key
group by cities.entity_id, cities.name, cities.country_code, cities.latitude, cities.longitude
order by stories desc, cities.name
limit 500
