-- The core tables of the warehouse: sources, runs, fetches, pages, articles, entities, topics
-- and rejections. Times are UTC (timestamptz); ids are stable hashes so loads are idempotent.

create table sources (
    source_id   varchar primary key,          -- the source's name
    kind        varchar not null,
    location    varchar not null,
    schedule    varchar,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);

create table runs (
    run_id        varchar primary key,
    flow_run_id   varchar,
    flow          varchar not null,
    parameters    json,
    status        varchar not null,           -- running | completed | failed
    discovered    integer not null default 0,
    fetched       integer not null default 0,
    extracted     integer not null default 0,
    duplicates    integer not null default 0,
    enriched      integer not null default 0,
    loaded        integer not null default 0,
    rejected      integer not null default 0,
    started_at    timestamptz not null,
    ended_at      timestamptz
);

create sequence fetch_ids;
create table fetches (
    fetch_id       bigint primary key default nextval('fetch_ids'),
    run_id         varchar not null,
    url            varchar not null,
    final_url      varchar,
    status_code    integer,
    content_type   varchar,
    bytes          bigint not null,
    etag           varchar,
    last_modified  varchar,
    elapsed_ms     double not null,
    error_type     varchar,
    error_message  varchar,
    fetched_at     timestamptz not null
);

create table pages (
    page_id       varchar primary key,        -- hash of url and body
    url           varchar not null,
    final_url     varchar not null,
    source_id     varchar not null,
    content_type  varchar not null,
    content_gzip  blob not null,
    bytes         bigint not null,
    fetched_at    timestamptz not null
);

create table articles (
    article_id      varchar primary key,      -- hash of canonical url and content hash
    url             varchar not null,
    canonical_url   varchar not null,
    source_id       varchar not null,
    page_id         varchar,
    title           varchar,
    authors         varchar[] not null,
    published_at    timestamptz,
    first_seen_at   timestamptz not null,
    language        varchar,
    site            varchar,
    text            varchar not null,
    content_hash    varchar not null,
    extractor       varchar not null,
    run_id          varchar not null
);

create table entities (
    entity_id        varchar primary key,     -- hash of type and normalized name
    name             varchar not null,
    entity_type      varchar not null,        -- person | organization | place
    normalized_name  varchar not null,
    first_seen_at    timestamptz not null
);

create table entity_aliases (
    entity_id      varchar not null,
    alias          varchar not null,
    first_seen_at  timestamptz not null,
    primary key (entity_id, alias)
);

create table mentions (
    article_id  varchar not null,
    entity_id   varchar not null,
    surface     varchar not null,
    start_char  integer not null,
    end_char    integer not null,
    in_title    boolean not null,
    enricher    varchar not null,
    primary key (article_id, in_title, start_char, end_char, enricher)
);

create table topics (
    topic_id          varchar not null,
    taxonomy_version  varchar not null,
    label             varchar not null,
    description       varchar not null,
    iptc_code         varchar,
    primary key (topic_id, taxonomy_version)
);

create table article_topics (
    article_id  varchar not null,
    topic_id    varchar not null,
    score       double not null,
    rank        integer not null,
    taxonomy_version  varchar not null,
    enricher    varchar not null,
    primary key (article_id, topic_id, enricher)
);

create sequence rejection_ids;
create table rejections (
    rejection_id   bigint primary key default nextval('rejection_ids'),
    run_id         varchar not null,
    stage          varchar not null,
    url            varchar not null,
    source_id      varchar not null,
    error_type     varchar not null,
    message        varchar not null,
    transient      boolean not null,
    rejected_at    timestamptz not null
);

create table loaded_batches (
    batch_id   varchar primary key,           -- a staged batch, loaded exactly once
    run_id     varchar not null,
    articles   integer not null,
    loaded_at  timestamptz not null
);
