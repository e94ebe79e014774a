-- Entities named in the same latest article versions as this one, by the stories they share (as the
-- entity_cooccurrence view counts them, for this entity only).
with mine as (
    select distinct latest_articles.article_id, latest_articles.cluster_id, latest_articles.article_date
    from article_entities
    inner join latest_articles on latest_articles.article_id = article_entities.article_id
    where article_entities.entity_id = $entity
),

companions as (
    select
        article_entities.entity_id,
        count(distinct mine.article_id) as articles,
        count(distinct mine.cluster_id) as stories,
        max(mine.article_date) as last_day
    from mine
    inner join article_entities on article_entities.article_id = mine.article_id
    where article_entities.entity_id <> $entity
    group by article_entities.entity_id
)

select
    companions.entity_id,
    entities.name,
    entities.entity_type,
    companions.stories,
    companions.articles,
    companions.last_day
from companions
inner join entities on entities.entity_id = companions.entity_id
order by companions.stories desc, companions.articles desc, entities.name
limit 25
