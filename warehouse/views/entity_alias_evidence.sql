-- Every surface form each entity was found under, with how often and in how many articles: the
-- evidence behind a merge ("U.S.", "US" and "United States" under one country), so a wrong one shows.
create or replace view entity_alias_evidence as
select
    entities.entity_id,
    entities.name,
    entities.entity_type,
    mentions.surface as alias,
    count(*) as mentions,
    count(distinct mentions.article_id) as articles,
    min(articles.first_seen_at) as first_seen_at
from mentions
inner join entities on entities.entity_id = mentions.entity_id
inner join articles on articles.article_id = mentions.article_id
group by entities.entity_id, entities.name, entities.entity_type, mentions.surface
order by entities.name, mentions desc
