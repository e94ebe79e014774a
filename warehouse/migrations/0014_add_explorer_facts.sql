-- What the explorer's panels read, kept in article_facts (issue 25).
--
-- Top entities and an entity's mentions over time summed article_entities.mentions, top subtopics read
-- article_subtopics, and the map joined every article's entities with the places among them, each for
-- every selected article: seconds at a million articles. article_facts gains, per article version:
--
-- * entity_mentions: the body mentions of each entity of entity_keys, in the same order (the sum of the
--   article_entities rows of that key), so unnest(entity_keys) and unnest(entity_mentions) side by side
--   give one row per entity with its mentions;
-- * top_subtopics: its rank-1 article_subtopics (the best subtopic under each of its topics), each
--   (iptc_code, label, level2_label) once, sorted;
-- * place_countries: the ISO codes of the countries its place entities are in (each once, sorted);
-- * city_keys: the entity_key of each city it names (a place whose gazetteer id is a city, with
--   coordinates), sorted.
--
-- An entity's type, country, gazetteer id and coordinates never change once it is loaded (a load only
-- adds entities), so these stay exact. A load keeps them as it keeps entity_keys and top_topics
-- (queries/article_facts_versions.sql, queries/facts_changed.sql). Built here from the rows already
-- loaded; article_facts is rebuilt with the new columns, sorted by day, as 0012 did.

create table article_facts__new (
    article_id      varchar not null,
    canonical_url   varchar not null,
    source_id       varchar not null,
    first_seen_at   timestamptz not null,
    appeared_at     timestamptz not null,
    article_date    date not null,
    version         integer not null,
    versions        integer not null,
    superseded_at   timestamptz,
    is_latest       boolean not null,
    cluster_id      varchar not null,
    match_kind      varchar not null,
    url_match_kind  varchar not null,
    article_key     ubigint not null,
    url_key         ubigint not null,
    hash_key        ubigint not null,
    cluster_key     ubigint not null,
    entity_keys     ubigint[] not null,
    top_topics      struct(topic_id varchar, label varchar, score double)[] not null,
    entity_mentions integer[] not null,       -- body mentions of each entity in entity_keys, same order
    top_subtopics   struct(iptc_code varchar, label varchar, level2_label varchar)[] not null,  -- rank 1
    place_countries varchar[] not null,       -- ISO codes of the countries of its places, each once
    city_keys       ubigint[] not null        -- entity_key of each city (with coordinates) it names
);

insert into article_facts__new
with entity_sums as (
    select
        article_entities.article_id,
        md5_number_lower(article_entities.entity_id) as entity_key,
        sum(article_entities.mentions)::integer as mentions,
        any_value(entities.country_code) filter (where entities.entity_type = 'place') as country_code,
        bool_or(entities.entity_type = 'place' and entities.gazetteer_id like 'city:%'
                and entities.latitude is not null and entities.longitude is not null) as is_city
    from article_entities
    left join entities on entities.entity_id = article_entities.entity_id
    group by article_entities.article_id, md5_number_lower(article_entities.entity_id)
),

entity_lists as (
    select
        entity_sums.article_id,
        list(entity_sums.mentions order by entity_sums.entity_key) as entity_mentions,
        coalesce(list_sort(list_distinct(list(entity_sums.country_code))), []) as place_countries,
        coalesce(list(entity_sums.entity_key order by entity_sums.entity_key)
                     filter (where entity_sums.is_city), []) as city_keys
    from entity_sums
    group by entity_sums.article_id
),

subtopic_lists as (
    select
        article_subtopics.article_id,
        list_sort(list_distinct(list({
            'iptc_code': article_subtopics.iptc_code,
            'label': article_subtopics.label,
            'level2_label': article_subtopics.level2_label
        }))) as top_subtopics
    from article_subtopics
    where article_subtopics.rank = 1
    group by article_subtopics.article_id
)

select
    article_facts.*,
    coalesce(entity_lists.entity_mentions, []),
    coalesce(subtopic_lists.top_subtopics, []),
    coalesce(entity_lists.place_countries, []),
    coalesce(entity_lists.city_keys, [])
from article_facts
left join entity_lists on entity_lists.article_id = article_facts.article_id
left join subtopic_lists on subtopic_lists.article_id = article_facts.article_id
order by article_facts.article_date, article_facts.article_id;

drop table article_facts;
alter table article_facts__new rename to article_facts;
