-- The new article_facts rows of the canonical URLs a load touched (warehouse/versions.py), from the temp
-- tables the load filled: facts_old (those URLs' rows, taken out of article_facts), fresh_articles and
-- fresh_article_entities / _topics / _subtopics (the rows it inserted), load_assigned (the clusters it
-- assigned), load_changed (articles whose stored rows changed in place: re-enriched, re-keyed, or given
-- enrichment rows again) and facts_changed (their own columns, read from the base tables). Each
-- version's own columns come from its previous row, from this load's rows when it is new, or from
-- facts_changed; then its place among its URL's versions is computed as migration 0010 does.
create or replace temp table facts_new as
with added_entity_sums as (
    select
        fresh_article_entities.article_id,
        md5_number_lower(fresh_article_entities.entity_id) as entity_key,
        sum(fresh_article_entities.mentions)::integer as mentions,
        any_value(entities.country_code) filter (where entities.entity_type = 'place') as country_code,
        bool_or(entities.entity_type = 'place' and entities.gazetteer_id like 'city:%'
                and entities.latitude is not null and entities.longitude is not null) as is_city
    from fresh_article_entities
    left join entities on entities.entity_id = fresh_article_entities.entity_id
    group by fresh_article_entities.article_id, md5_number_lower(fresh_article_entities.entity_id)
),

added_entities as (
    select
        added_entity_sums.article_id,
        list(added_entity_sums.entity_key order by added_entity_sums.entity_key) as entity_keys,
        list(added_entity_sums.mentions order by added_entity_sums.entity_key) as entity_mentions,
        coalesce(list_sort(list_distinct(list(added_entity_sums.country_code))), []) as place_countries,
        coalesce(list(added_entity_sums.entity_key order by added_entity_sums.entity_key)
                     filter (where added_entity_sums.is_city), []) as city_keys
    from added_entity_sums
    group by added_entity_sums.article_id
),

added_subtopics as (
    select
        fresh_article_subtopics.article_id,
        list_sort(list_distinct(list({
            'iptc_code': fresh_article_subtopics.iptc_code,
            'label': fresh_article_subtopics.label,
            'level2_label': fresh_article_subtopics.level2_label
        }))) as top_subtopics
    from fresh_article_subtopics
    where fresh_article_subtopics.rank = 1
    group by fresh_article_subtopics.article_id
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
        facts_old.appeared_at, facts_old.hash_key,
        coalesce(load_assigned.cluster_id, facts_old.cluster_id) as cluster_id,
        coalesce(load_assigned.match_kind, facts_old.match_kind) as match_kind,
        facts_old.entity_keys, facts_old.top_topics, facts_old.entity_mentions, facts_old.top_subtopics,
        facts_old.place_countries, facts_old.city_keys
    from facts_old
    left join load_assigned on load_assigned.article_id = facts_old.article_id
    where facts_old.article_id not in (select load_changed.article_id from load_changed)

    union all

    select
        fresh_articles.article_id, fresh_articles.canonical_url, fresh_articles.source_id,
        fresh_articles.first_seen_at, coalesce(fresh_articles.published_at, fresh_articles.first_seen_at),
        md5_number_lower(fresh_articles.content_hash),
        coalesce(load_assigned.cluster_id, fresh_articles.article_id),
        coalesce(load_assigned.match_kind, 'original'),
        coalesce(added_entities.entity_keys, []), coalesce(added_topics.top_topics, []),
        coalesce(added_entities.entity_mentions, []), coalesce(added_subtopics.top_subtopics, []),
        coalesce(added_entities.place_countries, []), coalesce(added_entities.city_keys, [])
    from fresh_articles
    left join load_assigned on load_assigned.article_id = fresh_articles.article_id
    left join added_entities on added_entities.article_id = fresh_articles.article_id
    left join added_topics on added_topics.article_id = fresh_articles.article_id
    left join added_subtopics on added_subtopics.article_id = fresh_articles.article_id
    where fresh_articles.article_id not in (select load_changed.article_id from load_changed)

    union all

    select
        facts_changed.article_id, facts_changed.canonical_url, facts_changed.source_id,
        facts_changed.first_seen_at, facts_changed.appeared_at, facts_changed.hash_key, facts_changed.cluster_id,
        facts_changed.match_kind, facts_changed.entity_keys, facts_changed.top_topics,
        facts_changed.entity_mentions, facts_changed.top_subtopics, facts_changed.place_countries,
        facts_changed.city_keys
    from facts_changed
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
    md5_number_lower(canonical_url) as url_key, hash_key, md5_number_lower(cluster_id) as cluster_key,
    entity_keys, top_topics, entity_mentions, top_subtopics, place_countries, city_keys
from ranked
