-- Every version of every article: when changed text is found at a known canonical URL, both versions
-- are kept. version counts from 1 (the first seen), is_latest marks the newest, superseded_at is when
-- the next version was first seen. cluster_id is the story the version belongs to (see
-- duplicate_clusters), match_kind how this version joined it, url_match_kind how the URL's first
-- version did (a revised syndicated copy is still a copy); article_date the day it was published (or
-- first seen, when undated).
create or replace view article_versions as
with ranked as (
    select
        articles.article_id,
        first_value(coalesce(article_clusters.match_kind, 'original')) over (
            partition by articles.canonical_url order by articles.first_seen_at, articles.article_id
        ) as url_match_kind,
        row_number() over (
            partition by articles.canonical_url order by articles.first_seen_at, articles.article_id
        ) as version,
        count(*) over (partition by articles.canonical_url) as versions,
        lead(articles.first_seen_at) over (
            partition by articles.canonical_url order by articles.first_seen_at, articles.article_id
        ) as superseded_at
    from articles
    left join article_clusters on article_clusters.article_id = articles.article_id
)

select
    articles.article_id,
    articles.canonical_url,
    articles.url,
    articles.source_id,
    articles.title,
    articles.authors,
    articles.published_at,
    articles.first_seen_at,
    cast(coalesce(articles.published_at, articles.first_seen_at) as date) as article_date,
    articles.language,
    articles.site,
    articles.text,
    articles.content_hash,
    articles.run_id,
    ranked.version,
    ranked.versions,
    ranked.superseded_at,
    ranked.version = ranked.versions as is_latest,
    coalesce(article_clusters.cluster_id, articles.article_id) as cluster_id,
    coalesce(article_clusters.match_kind, 'original') as match_kind,
    ranked.url_match_kind
from articles
inner join ranked on ranked.article_id = articles.article_id
left join article_clusters on article_clusters.article_id = articles.article_id
