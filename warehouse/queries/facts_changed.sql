-- The own columns of the article_facts rows of the articles whose stored rows a load changed in place
-- (load_changed), read from the base tables: the articles, their clusters, entities (with their mentions,
-- countries and cities), top topics and top subtopics (temp table facts_changed, read by
-- article_facts_versions.sql; only run when there are such articles).
create or replace temp table facts_changed as
with changed_articles as (
    select
        articles.article_id, articles.canonical_url, articles.source_id, articles.first_seen_at,
        coalesce(articles.published_at, articles.first_seen_at) as appeared_at,
        md5_number_lower(articles.content_hash) as hash_key
    from articles
    where articles.article_id in (select load_changed.article_id from load_changed)
),

changed_clusters as (
    select article_clusters.article_id, article_clusters.cluster_id, article_clusters.match_kind
    from article_clusters
    where article_clusters.article_id in (select load_changed.article_id from load_changed)
),

changed_entity_sums as (
    select
        article_entities.article_id,
        md5_number_lower(article_entities.entity_id) as entity_key,
        sum(article_entities.mentions)::integer as mentions,
        any_value(entities.country_code) filter (where entities.entity_type = 'place') as country_code,
        bool_or(entities.entity_type = 'place' and entities.gazetteer_id like 'city:%'
                and entities.latitude is not null and entities.longitude is not null) as is_city
    from article_entities
    left join entities on entities.entity_id = article_entities.entity_id
    where article_entities.article_id in (select load_changed.article_id from load_changed)
    group by article_entities.article_id, md5_number_lower(article_entities.entity_id)
),

changed_entities as (
    select
        changed_entity_sums.article_id,
        list(changed_entity_sums.entity_key order by changed_entity_sums.entity_key) as entity_keys,
        list(changed_entity_sums.mentions order by changed_entity_sums.entity_key) as entity_mentions,
        coalesce(list_sort(list_distinct(list(changed_entity_sums.country_code))), []) as place_countries,
        coalesce(list(changed_entity_sums.entity_key order by changed_entity_sums.entity_key)
                     filter (where changed_entity_sums.is_city), []) as city_keys
    from changed_entity_sums
    group by changed_entity_sums.article_id
),

changed_subtopics as (
    select
        article_subtopics.article_id,
        list_sort(list_distinct(list({
            'iptc_code': article_subtopics.iptc_code,
            'label': article_subtopics.label,
            'level2_label': article_subtopics.level2_label
        }))) as top_subtopics
    from article_subtopics
    where article_subtopics.rank = 1
        and article_subtopics.article_id in (select load_changed.article_id from load_changed)
    group by article_subtopics.article_id
),

changed_topics as (
    select
        article_topics.article_id,
        list_sort(list({'topic_id': topics.topic_id, 'label': topics.label, 'score': article_topics.score}))
            as top_topics
    from article_topics
    inner join topics
        on topics.topic_id = article_topics.topic_id
        and topics.taxonomy_version = article_topics.taxonomy_version
    where article_topics.rank = 1
        and article_topics.article_id in (select load_changed.article_id from load_changed)
    group by article_topics.article_id
)

select
    changed_articles.article_id, changed_articles.canonical_url, changed_articles.source_id,
    changed_articles.first_seen_at, changed_articles.appeared_at, changed_articles.hash_key,
    coalesce(changed_clusters.cluster_id, changed_articles.article_id) as cluster_id,
    coalesce(changed_clusters.match_kind, 'original') as match_kind,
    coalesce(changed_entities.entity_keys, []) as entity_keys,
    coalesce(changed_topics.top_topics, []) as top_topics,
    coalesce(changed_entities.entity_mentions, []) as entity_mentions,
    coalesce(changed_subtopics.top_subtopics, []) as top_subtopics,
    coalesce(changed_entities.place_countries, []) as place_countries,
    coalesce(changed_entities.city_keys, []) as city_keys
from changed_articles
left join changed_clusters on changed_clusters.article_id = changed_articles.article_id
left join changed_entities on changed_entities.article_id = changed_articles.article_id
left join changed_topics on changed_topics.article_id = changed_articles.article_id
left join changed_subtopics on changed_subtopics.article_id = changed_articles.article_id
