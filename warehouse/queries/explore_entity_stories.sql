-- The 50 latest stories that name the entity: each cluster's original (its earliest published member),
-- how many articles it has, from how many sources, and how many of them name the entity.
with naming as (
    select latest_articles.cluster_id, count(distinct latest_articles.article_id) as articles
    from article_entities
    inner join latest_articles on latest_articles.article_id = article_entities.article_id
    where article_entities.entity_id = $entity
    group by latest_articles.cluster_id
),

members as (
    select
        latest_articles.cluster_id,
        latest_articles.article_id,
        latest_articles.title,
        latest_articles.source_id,
        latest_articles.canonical_url,
        coalesce(latest_articles.published_at, latest_articles.first_seen_at) as appeared_at
    from latest_articles
    where latest_articles.cluster_id in (select naming.cluster_id from naming)
),

stories as (
    select
        members.cluster_id,
        arg_min(members.title, (members.appeared_at, members.article_id)) as original_title,
        arg_min(members.source_id, (members.appeared_at, members.article_id)) as original_source_id,
        arg_min(members.canonical_url, (members.appeared_at, members.article_id)) as original_url,
        min(members.appeared_at) as first_appeared_at,
        count(*) as copies,
        count(distinct members.source_id) as sources
    from members
    group by members.cluster_id
)

select stories.*, naming.articles as naming_articles
from stories
inner join naming on naming.cluster_id = stories.cluster_id
order by stories.first_appeared_at desc, stories.cluster_id
limit 50
