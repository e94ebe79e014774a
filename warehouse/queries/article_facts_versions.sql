-- The new article_facts rows of the canonical URLs a load touched (warehouse/versions.py), from the temp
-- tables the load filled: facts_old (those URLs' rows, taken out of article_facts), fresh_articles and
-- fresh_article_entities / fresh_article_topics (the rows it inserted), load_clusters (the clusters it
-- assigned) and load_changed (articles whose stored rows changed in place: re-enriched, re-keyed, or given
-- enrichment rows again). Each version's own columns come from its previous row, from this load's rows
-- when it is new, or from the base tables when it changed in place; then its place among its URL's
-- versions is computed as migration 0010 does.
create or replace temp table facts_new as
with changed_articles as (
    select
        articles.article_id, articles.canonical_url, articles.source_id, articles.first_seen_at,
        coalesce(articles.published_at, articles.first_seen_at) as appeared_at
    from articles
    where articles.article_id in (select load_changed.article_id from load_changed)
),

changed_clusters as (
    select article_clusters.article_id, article_clusters.cluster_id, article_clusters.match_kind
    from article_clusters
    where article_clusters.article_id in (select load_changed.article_id from load_changed)
),

changed_entities as (
    select
        article_entities.article_id,
        list_sort(list_distinct(list(md5_number_lower(article_entities.entity_id)))) as entity_keys
    from article_entities
    where article_entities.article_id in (select load_changed.article_id from load_changed)
    group by article_entities.article_id
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
),

added_entities as (
    select
        fresh_article_entities.article_id,
        list_sort(list_distinct(list(md5_number_lower(fresh_article_entities.entity_id)))) as entity_keys
    from fresh_article_entities
    group by fresh_article_entities.article_id
),

added_topics as (
    select
        fresh_article_topics.article_id,
        list_sort(list({'topic_id': topics.topic_id, 'label': topics.label, 'score': fresh_article_topics.score}))
            as top_topics
    from fresh_article_topics
    inner join topics
        on topics.topic_id = fresh_article_topics.topic_id
        and topics.taxonomy_version = fresh_article_topics.taxonomy_version
    where fresh_article_topics.rank = 1
    group by fresh_article_topics.article_id
),

versions as (
    select
        facts_old.article_id, facts_old.canonical_url, facts_old.source_id, facts_old.first_seen_at,
        facts_old.appeared_at,
        coalesce(load_clusters.cluster_id, facts_old.cluster_id) as cluster_id,
        coalesce(load_clusters.match_kind, facts_old.match_kind) as match_kind,
        facts_old.entity_keys, facts_old.top_topics
    from facts_old
    left join load_clusters on load_clusters.article_id = facts_old.article_id
    where facts_old.article_id not in (select load_changed.article_id from load_changed)

    union all

    select
        fresh_articles.article_id, fresh_articles.canonical_url, fresh_articles.source_id,
        fresh_articles.first_seen_at, coalesce(fresh_articles.published_at, fresh_articles.first_seen_at),
        coalesce(load_clusters.cluster_id, fresh_articles.article_id),
        coalesce(load_clusters.match_kind, 'original'),
        coalesce(added_entities.entity_keys, []), coalesce(added_topics.top_topics, [])
    from fresh_articles
    left join load_clusters on load_clusters.article_id = fresh_articles.article_id
    left join added_entities on added_entities.article_id = fresh_articles.article_id
    left join added_topics on added_topics.article_id = fresh_articles.article_id
    where fresh_articles.article_id not in (select load_changed.article_id from load_changed)

    union all

    select
        changed_articles.article_id, changed_articles.canonical_url, changed_articles.source_id,
        changed_articles.first_seen_at, changed_articles.appeared_at,
        coalesce(changed_clusters.cluster_id, changed_articles.article_id),
        coalesce(changed_clusters.match_kind, 'original'),
        coalesce(changed_entities.entity_keys, []), coalesce(changed_topics.top_topics, [])
    from changed_articles
    left join changed_clusters on changed_clusters.article_id = changed_articles.article_id
    left join changed_entities on changed_entities.article_id = changed_articles.article_id
    left join changed_topics on changed_topics.article_id = changed_articles.article_id
),

ranked as (
    select
        versions.*,
        row_number() over by_url as version,
        count(*) over (partition by versions.canonical_url) as versions,
        lead(versions.first_seen_at) over by_url as superseded_at,
        first_value(versions.match_kind) over by_url as url_match_kind
    from versions
    window by_url as (partition by versions.canonical_url order by versions.first_seen_at, versions.article_id)
)

select
    article_id, canonical_url, source_id, first_seen_at, appeared_at, cast(appeared_at as date) as article_date,
    version::integer as version, versions::integer as versions, superseded_at, version = versions as is_latest,
    cluster_id, match_kind, url_match_kind, md5_number_lower(article_id) as article_key,
    md5_number_lower(canonical_url) as url_key, md5_number_lower(cluster_id) as cluster_key, entity_keys,
    top_topics
from ranked
