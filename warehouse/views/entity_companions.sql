-- entity_companions('Name'): the entities named in the same articles as the entity called 'Name' (latest
-- versions; every entity of that name when several types share it), with how many articles and stories
-- name both and when they last did, most frequent first. A table macro: it starts from the articles
-- naming the entity, so it never builds the pairs of all entities (entity_cooccurrence does).
create or replace macro entity_companions(entity_name) as table
with asked as (
    select entities.entity_id
    from entities
    where entities.name = entity_name
),

its_articles as (
    select distinct article_entities.article_id, article_facts.cluster_id, article_facts.article_date
    from article_entities
    inner join article_facts
        on article_facts.article_id = article_entities.article_id
        and article_facts.is_latest
    where article_entities.entity_id in (select asked.entity_id from asked)
),

companions as (
    select
        article_entities.entity_id,
        count(distinct its_articles.article_id) as articles,
        count(distinct its_articles.cluster_id) as stories,
        max(its_articles.article_date) as last_day
    from its_articles
    inner join article_entities on article_entities.article_id = its_articles.article_id
    where article_entities.entity_id not in (select asked.entity_id from asked)
    group by article_entities.entity_id
)

select
    companions.entity_id,
    entities.name,
    entities.entity_type,
    companions.articles,
    companions.stories,
    companions.last_day
from companions
inner join entities on entities.entity_id = companions.entity_id
order by companions.articles desc, entities.name
