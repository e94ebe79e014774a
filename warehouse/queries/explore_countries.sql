-- Countries on the map: per ISO country code, the selection's stories and articles that name a place
-- in it (the country itself, a region or a city), from the entity keys article_facts lists per article.
with places as (
    select entities.entity_key, entities.country_code
    from entities
    where entities.entity_type = 'place' and entities.country_code is not null
),

named as (
    select selection.article_key, selection.cluster_key, unnest(facts.entity_keys) as entity_key
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
)

select
    places.country_code,
    count(distinct named.cluster_key) as stories,
    count(distinct named.article_key) as articles
from named
inner join places on places.entity_key = named.entity_key
group by places.country_code
order by stories desc, places.country_code
