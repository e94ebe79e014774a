-- Duplicates, revisions and embeddings (issue 5).
--
-- article_clusters puts every article version in a story cluster: its own (match_kind 'original'),
-- or the cluster of an earlier version of its canonical URL ('revision'), of the same text elsewhere
-- ('exact'), or of a near-duplicate found by MinHash ('near', with the estimated similarity). The
-- cluster id is the id of the cluster's first loaded member; its original is the earliest published
-- member (see view duplicate_clusters). minhash_bands holds the LSH band keys the detector looks up.
-- Revisions need no table: changed text at a known canonical URL is a new articles row (its id
-- hashes URL and text), and view latest_articles shows the newest version of each URL.

create table article_clusters (
    article_id          varchar primary key,
    cluster_id          varchar not null,
    match_kind          varchar not null,     -- original | revision | exact | near
    similarity          double not null,      -- estimated Jaccard with matched_article_id (1 for originals)
    matched_article_id  varchar,
    minhash             integer[] not null,   -- 128-value MinHash signature of the text's word 5-grams
    clustered_at        timestamptz not null
);

create table minhash_bands (
    band_key    bigint not null,
    article_id  varchar not null,
    primary key (band_key, article_id)
);

-- The vector the topic stage embedded for each article (its title and lead), for semantic search.
create table embeddings (
    article_id  varchar not null,
    model       varchar not null,
    dimensions  integer not null,
    vector      float[] not null,             -- unit length: cosine similarity is the dot product
    primary key (article_id, model)
);

-- DuckLake only: every load transaction updates this one row, so two workers' loads conflict and
-- take turns (DuckLake has no unique keys; the loser retries and sees the winner's rows).
create table writer_turns (
    turn  bigint not null
);
insert into writer_turns values (0);

-- DuckLake only: the hash of the view files last created, so workers re-create views only when
-- they changed (re-creating them on every connection would make concurrent writers conflict).
create table view_sets (
    views_hash  varchar not null,
    created_at  timestamptz not null
);
