-- Every version of every article: when changed text is found at a known canonical URL, both versions
-- are kept. version counts from 1 (the first seen), is_latest marks the newest, superseded_at is when
-- the next version was first seen. cluster_id is the story the version belongs to (see
-- duplicate_clusters), match_kind how this version joined it, url_match_kind how the URL's first
-- version did (a revised syndicated copy is still a copy); article_date the day it was published (or
-- first seen, when undated). Versions and clusters are kept by each load in article_facts.
create or replace view article_versions as
select
    articles.article_id,
    articles.canonical_url,
    articles.url,
    articles.source_id,
    articles.title,
    articles.authors,
    articles.published_at,
    articles.first_seen_at,
    article_facts.article_date,
    articles.language,
    articles.site,
    articles.text,
    articles.content_hash,
    articles.run_id,
    article_facts.version,
    article_facts.versions,
    article_facts.superseded_at,
    article_facts.is_latest,
    article_facts.cluster_id,
    article_facts.match_kind,
    article_facts.url_match_kind
from articles
inner join article_facts on article_facts.article_id = articles.article_id
