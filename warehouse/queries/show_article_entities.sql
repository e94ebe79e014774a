-- The entities of one article, most salient first.
select
    entities.name,
    entities.entity_type,
    entities.country_code,
    article_entities.salience,
    article_entities.mentions,
    article_entities.in_title
from article_entities
inner join entities on article_entities.entity_id = entities.entity_id
where article_entities.article_id = $article_id
order by article_entities.salience desc, entities.name
