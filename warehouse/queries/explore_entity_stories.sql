-- The stories that name the entity, latest first: each cluster's original, its copies, and how many of
-- its articles name the entity.
with naming as (
    select latest_articles.cluster_id, count(*) as articles
    from article_entities
    inner join latest_articles on latest_articles.article_id = article_entities.article_id
    where article_entities.entity_id = $entity
    group by latest_articles.cluster_id
)

select
    duplicate_clusters.cluster_id,
    duplicate_clusters.original_title,
    duplicate_clusters.original_source_id,
    originals.canonical_url as original_url,
    duplicate_clusters.first_appeared_at,
    duplicate_clusters.copies,
    duplicate_clusters.sources,
    naming.articles as naming_articles
from naming
inner join duplicate_clusters on duplicate_clusters.cluster_id = naming.cluster_id
inner join articles as originals on originals.article_id = duplicate_clusters.original_article_id
order by duplicate_clusters.first_appeared_at desc, duplicate_clusters.cluster_id
limit 50
