-- The newest version of each article (one row per canonical URL): what queries should read by
-- default. Older versions stay in article_versions.
create or replace view latest_articles as
select
    article_versions.article_id,
    article_versions.canonical_url,
    article_versions.url,
    article_versions.source_id,
    article_versions.title,
    article_versions.authors,
    article_versions.published_at,
    article_versions.first_seen_at,
    article_versions.article_date,
    article_versions.language,
    article_versions.site,
    article_versions.text,
    article_versions.content_hash,
    article_versions.versions,
    article_versions.cluster_id,
    article_versions.match_kind,
    article_versions.url_match_kind
from article_versions
where article_versions.is_latest
