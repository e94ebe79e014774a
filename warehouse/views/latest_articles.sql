-- The newest version of each article (one row per canonical URL): what queries should read by
-- default. Older versions stay in article_versions.
create or replace view latest_articles as
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
    article_facts.versions,
    article_facts.cluster_id,
    article_facts.match_kind,
    article_facts.url_match_kind
from articles
inner join article_facts on article_facts.article_id = articles.article_id
where article_facts.is_latest
