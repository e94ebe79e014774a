-- What the daily views count, kept at load time (issue 22, after article_facts in 0010).
--
-- topic_trends, duplicate_clusters and entity_mention_counts grouped a million rows on every query,
-- and entity_companions joined a popular entity's articles with all their entities: seconds each at a
-- million articles. Each now reads a table a load keeps up to date in its transaction:
--
-- * article_facts gains, per article version, its entities (entity_keys: the sorted 64-bit keys of its
--   article_entities; entities gains the key, entity_key) and its top topics (top_topics: its rank-1
--   article_topics with the topic's label), so entity_companions reads one row per article, and the
--   aggregates below follow from these rows alone; and 64-bit keys of its id, canonical URL, content hash
--   and cluster (article_clusters gains the id's), so a load finds the rows it reads or rewrites by
--   integers (DuckDB scans and compares 8-byte keys many times faster than 32-character strings, and
--   an ART index would be reloaded and rewritten by every load: see benchmarks/RESULTS.md).
-- * topic_day_stories: per day, top topic and story cluster, the latest article versions and the sum of
--   their scores (exact decimals, so adding and removing an article leaves no rounding behind);
--   topic_trends counts its rows as stories.
-- * story_clusters: one row per story cluster, as duplicate_clusters shows it.
-- * entity_mention_totals: per entity, the articles and mentions of the mentions table.
--
-- A load takes the rows it changes (article_facts of the canonical URLs it touched, the aggregate rows of
-- their clusters and entities), recomputes them and puts them back (warehouse/versions.py,
-- warehouse/aggregates.py). Keys are md5_number_lower of the string (stable across DuckDB releases).
--
-- Built here from the rows already loaded; article_facts is rebuilt with the new columns, sorted by day
-- (the aggregates read the rebuilt rows, before they take the old table's name).

alter table entities add column entity_key ubigint;  -- md5_number_lower(entity_id), set by every load
update entities set entity_key = md5_number_lower(entity_id);
alter table article_clusters add column article_key ubigint;  -- md5_number_lower(article_id), likewise
update article_clusters set article_key = md5_number_lower(article_id);

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
    article_key     ubigint not null,         -- md5_number_lower(article_id)
    url_key         ubigint not null,         -- md5_number_lower(canonical_url)
    hash_key        ubigint not null,         -- md5_number_lower(content_hash): exact copies are found by it
    cluster_key     ubigint not null,         -- md5_number_lower(cluster_id)
    entity_keys     ubigint[] not null,       -- md5_number_lower of each entity_id in article_entities, sorted
    top_topics      struct(topic_id varchar, label varchar, score double)[] not null  -- rank-1 article_topics
);

insert into article_facts__new
with entity_sets as (
    select
        article_entities.article_id,
        list_sort(list_distinct(list(md5_number_lower(article_entities.entity_id)))) as entity_keys
    from article_entities
    group by article_entities.article_id
),

top_topics as (
    select
        article_topics.article_id,
        list_sort(list({'topic_id': topics.topic_id, 'label': topics.label, 'score': article_topics.score}))
            as top_topics
    from article_topics
    inner join topics
        on topics.topic_id = article_topics.topic_id
        and topics.taxonomy_version = article_topics.taxonomy_version
    where article_topics.rank = 1
    group by article_topics.article_id
)

select
    article_facts.article_id, article_facts.canonical_url, article_facts.source_id, article_facts.first_seen_at,
    article_facts.appeared_at, article_facts.article_date, article_facts.version, article_facts.versions,
    article_facts.superseded_at, article_facts.is_latest, article_facts.cluster_id, article_facts.match_kind,
    article_facts.url_match_kind, md5_number_lower(article_facts.article_id),
    md5_number_lower(article_facts.canonical_url), md5_number_lower(articles.content_hash),
    md5_number_lower(article_facts.cluster_id), coalesce(entity_sets.entity_keys, []),
    coalesce(top_topics.top_topics, [])
from article_facts
inner join articles on articles.article_id = article_facts.article_id
left join entity_sets on entity_sets.article_id = article_facts.article_id
left join top_topics on top_topics.article_id = article_facts.article_id
order by article_facts.article_date, article_facts.article_id;

create table topic_day_stories (
    day          date not null,
    topic_id     varchar not null,
    label        varchar not null,
    cluster_key  ubigint not null,
    articles     bigint not null,
    score_sum    decimal(38, 18) not null
);

insert into topic_day_stories
select
    latest.article_date, latest.topic.topic_id, latest.topic.label, latest.cluster_key, count(*),
    sum(latest.topic.score::decimal(38, 18))
from (
    select facts.article_date, facts.cluster_key, unnest(facts.top_topics) as topic
    from article_facts__new as facts
    where facts.is_latest
) as latest
group by all
order by latest.article_date;

create table story_clusters (
    cluster_key          ubigint not null,
    cluster_id           varchar not null,
    original_article_id  varchar not null,
    original_title       varchar,
    original_source_id   varchar not null,
    first_appeared_at    timestamptz not null,
    last_appeared_at     timestamptz not null,
    copies               bigint not null,
    sources              bigint not null,
    exact_copies         bigint not null,
    near_copies          bigint not null
);

insert into story_clusters
with clusters as (
    select
        facts.cluster_key,
        facts.cluster_id,
        arg_min(facts.article_id, (facts.appeared_at, facts.article_id))
            as original_article_id,
        arg_min(facts.source_id, (facts.appeared_at, facts.article_id))
            as original_source_id,
        min(facts.appeared_at) as first_appeared_at,
        max(facts.appeared_at) as last_appeared_at,
        count(*) as copies,
        count(distinct facts.source_id) as sources,
        count(*) filter (where facts.url_match_kind = 'exact') as exact_copies,
        count(*) filter (where facts.url_match_kind = 'near') as near_copies
    from article_facts__new as facts
    where facts.is_latest
    group by facts.cluster_key, facts.cluster_id
)

select
    clusters.cluster_key, clusters.cluster_id, clusters.original_article_id, articles.title,
    clusters.original_source_id, clusters.first_appeared_at, clusters.last_appeared_at, clusters.copies,
    clusters.sources, clusters.exact_copies, clusters.near_copies
from clusters
inner join articles on articles.article_id = clusters.original_article_id;

create table entity_mention_totals (
    entity_id  varchar not null,
    articles   bigint not null,
    mentions   bigint not null
);

insert into entity_mention_totals
select mentions.entity_id, count(distinct mentions.article_id), count(*)
from mentions
group by mentions.entity_id;

drop table article_facts;
alter table article_facts__new rename to article_facts;
