-- The 50 latest stories that name the entity: each cluster's original (its earliest published member),
-- how many articles it has, from how many sources (story_clusters, kept by each load), and how many of
-- them name the entity (from the entity lists article_facts keeps per article).
with asked as (
    select entities.entity_key
    from entities
    where entities.entity_id = $entity
),

naming as (
    select facts.cluster_key, count(*) as articles
    from article_facts as facts, asked
    where facts.is_latest and list_contains(facts.entity_keys, asked.entity_key)
    group by facts.cluster_key
),

stories as materialized (
    select story_clusters.*, naming.articles as naming_articles
    from story_clusters
    inner join naming on naming.cluster_key = story_clusters.cluster_key
    order by story_clusters.first_appeared_at desc, story_clusters.cluster_id
    limit 50
),

originals as (
    select facts.article_id, facts.canonical_url
    from article_facts as facts
    where facts.article_id in (select stories.original_article_id from stories)
)

select
    stories.cluster_id,
    stories.original_title,
    stories.original_source_id,
    originals.canonical_url as original_url,
    stories.first_appeared_at,
    stories.copies,
    stories.sources,
    stories.naming_articles
from stories
inner join originals on originals.article_id = stories.original_article_id
order by stories.first_appeared_at desc, stories.cluster_id
