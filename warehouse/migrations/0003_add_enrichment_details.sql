-- Enrichment details of issue 4: places on the map, entity salience per article, keyphrases.
-- Entities the gazetteer knows carry an ISO country code, coordinates and the gazetteer id that
-- keys them ("U.S.", "US" and "United States" are one row). article_entities holds how prominent
-- each entity is in an article (in the title, in the first paragraph, how often), keyphrases the
-- salient phrases of an article; both name the enricher that produced them, so a re-enrichment
-- replaces exactly the stale rows.

alter table entities add column country_code varchar;     -- ISO 3166-1 alpha-2
alter table entities add column latitude double;
alter table entities add column longitude double;
alter table entities add column gazetteer_id varchar;      -- country:AL, state:US-TX, city:<geonameid>

create table article_entities (
    article_id  varchar not null,
    entity_id   varchar not null,
    mentions    integer not null,          -- mentions in the body
    in_title    boolean not null,
    in_lead     boolean not null,          -- named in the first paragraph
    first_char  integer not null,          -- first body mention, -1 when only in the title
    salience    double not null,           -- 0.4 title + 0.3 lead + 0.3 min(mentions, 5) / 5
    enricher    varchar not null,
    primary key (article_id, entity_id, enricher)
);

create table keyphrases (
    article_id  varchar not null,
    phrase      varchar not null,
    score       double not null,
    rank        integer not null,
    enricher    varchar not null,
    primary key (article_id, phrase, enricher)
);

-- Which enrichers last enriched each article: `broadsheet reenrich` redoes the articles whose
-- versions differ from the current ones (or that have no row, as before this migration).
create table article_enrichments (
    article_id        varchar primary key,
    entity_enricher   varchar not null,
    topic_enricher    varchar not null,
    taxonomy_version  varchar not null,
    enriched_at       timestamptz not null
);
