-- Places on the map: every place entity with its ISO country code and coordinates (from the offline
-- gazetteer), how many articles and mentions name it, and when it was last in the news.
create or replace view place_mentions as
select
    entities.entity_id,
    entities.name,
    entities.country_code,
    entities.latitude,
    entities.longitude,
    count(distinct mentions.article_id) as articles,
    count(*) as mentions,
    max(articles.first_seen_at) as last_seen_at
from mentions
inner join entities on entities.entity_id = mentions.entity_id
inner join articles on articles.article_id = mentions.article_id
where entities.entity_type = 'place'
group by entities.entity_id, entities.name, entities.country_code, entities.latitude, entities.longitude
order by articles desc, entities.name
