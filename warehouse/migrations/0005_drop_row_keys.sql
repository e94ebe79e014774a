-- The article tables lose their primary keys (performance, issue 7).
--
-- DuckDB keeps a primary key as an ART index that every insert must load whole and every checkpoint
-- writes back: on a long ingest each load grew slower and the loading process larger with the
-- warehouse (measured: 100,000 rows inserted into a keyed table of 3 million took 8.8 s and 600 MB,
-- against 0.2 s and 80 MB unkeyed). Loads now skip rows already present with an anti-join on the
-- same key columns (broadsheet.warehouse.load.KEYS), as they always did on DuckLake, so nothing else
-- changes: key columns stay not null and a row is still stored once.
--
-- Each table is rebuilt with the same columns in the same order; views are re-created after
-- migrations. Bookkeeping tables (sources, runs, topics, fetches, rejections, loaded_batches) keep
-- their keys: they grow by a row per run or per fetch, not per mention.

create table pages__new (
    page_id       varchar not null,
    url           varchar not null,
    final_url     varchar not null,
    source_id     varchar not null,
    content_type  varchar not null,
    content_gzip  blob not null,
    bytes         bigint not null,
    fetched_at    timestamptz not null
);
insert into pages__new select * from pages;
drop table pages;
alter table pages__new rename to pages;

create table articles__new (
    article_id     varchar not null,
    url            varchar not null,
    canonical_url  varchar not null,
    source_id      varchar not null,
    page_id        varchar,
    title          varchar,
    authors        varchar[] not null,
    published_at   timestamptz,
    first_seen_at  timestamptz not null,
    language       varchar,
    site           varchar,
    text           varchar not null,
    content_hash   varchar not null,
    extractor      varchar not null,
    run_id         varchar not null
);
insert into articles__new select * from articles;
drop table articles;
alter table articles__new rename to articles;

create table entities__new (
    entity_id        varchar not null,
    name             varchar not null,
    entity_type      varchar not null,
    normalized_name  varchar not null,
    first_seen_at    timestamptz not null,
    country_code     varchar,
    latitude         double,
    longitude        double,
    gazetteer_id     varchar
);
insert into entities__new select * from entities;
drop table entities;
alter table entities__new rename to entities;

create table entity_aliases__new (
    entity_id      varchar not null,
    alias          varchar not null,
    first_seen_at  timestamptz not null
);
insert into entity_aliases__new select * from entity_aliases;
drop table entity_aliases;
alter table entity_aliases__new rename to entity_aliases;

create table mentions__new (
    article_id  varchar not null,
    entity_id   varchar not null,
    surface     varchar not null,
    start_char  integer not null,
    end_char    integer not null,
    in_title    boolean not null,
    enricher    varchar not null
);
insert into mentions__new select * from mentions;
drop table mentions;
alter table mentions__new rename to mentions;

create table article_topics__new (
    article_id        varchar not null,
    topic_id          varchar not null,
    score             double not null,
    rank              integer not null,
    taxonomy_version  varchar not null,
    enricher          varchar not null
);
insert into article_topics__new select * from article_topics;
drop table article_topics;
alter table article_topics__new rename to article_topics;

create table article_entities__new (
    article_id  varchar not null,
    entity_id   varchar not null,
    mentions    integer not null,
    in_title    boolean not null,
    in_lead     boolean not null,
    first_char  integer not null,
    salience    double not null,
    enricher    varchar not null
);
insert into article_entities__new select * from article_entities;
drop table article_entities;
alter table article_entities__new rename to article_entities;

create table keyphrases__new (
    article_id  varchar not null,
    phrase      varchar not null,
    score       double not null,
    rank        integer not null,
    enricher    varchar not null
);
insert into keyphrases__new select * from keyphrases;
drop table keyphrases;
alter table keyphrases__new rename to keyphrases;

create table article_enrichments__new (
    article_id        varchar not null,
    entity_enricher   varchar not null,
    topic_enricher    varchar not null,
    taxonomy_version  varchar not null,
    enriched_at       timestamptz not null
);
insert into article_enrichments__new select * from article_enrichments;
drop table article_enrichments;
alter table article_enrichments__new rename to article_enrichments;

create table article_clusters__new (
    article_id          varchar not null,
    cluster_id          varchar not null,
    match_kind          varchar not null,
    similarity          double not null,
    matched_article_id  varchar,
    minhash             integer[] not null,
    clustered_at        timestamptz not null
);
insert into article_clusters__new select * from article_clusters;
drop table article_clusters;
alter table article_clusters__new rename to article_clusters;

create table minhash_bands__new (
    band_key    bigint not null,
    article_id  varchar not null
);
insert into minhash_bands__new select * from minhash_bands;
drop table minhash_bands;
alter table minhash_bands__new rename to minhash_bands;

create table embeddings__new (
    article_id  varchar not null,
    model       varchar not null,
    dimensions  integer not null,
    vector      float[] not null
);
insert into embeddings__new select * from embeddings;
drop table embeddings;
alter table embeddings__new rename to embeddings;
