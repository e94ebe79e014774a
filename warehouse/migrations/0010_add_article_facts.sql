-- The version and story of every article, kept at load time (issue 22).
--
-- article_versions and every view over it computed, on each query, a window over all versions of all
-- canonical URLs and a join with article_clusters: seconds at a million articles. article_facts holds
-- the result, one row per article version: its version number at its canonical URL, how many versions
-- the URL has, whether it is the latest, when the next one superseded it, and its story cluster. A load
-- recomputes the rows of the canonical URLs it touched, in its transaction (queries/refresh_article_facts.sql);
-- articles and article_clusters only ever gain rows, and re-enrichment changes neither, so the rows
-- stay exact. The views read these rows instead of the window. appeared_at (published, else first
-- seen), article_date (its day) and source_id are copied so the trend views need not read articles.
--
-- Built here from the rows already loaded, sorted by day so a query over a few days reads few blocks.

create table article_facts (
    article_id      varchar not null,
    canonical_url   varchar not null,
    source_id       varchar not null,
    first_seen_at   timestamptz not null,
    appeared_at     timestamptz not null,
    article_date    date not null,
    version         integer not null,         -- 1 = the first version seen at the canonical URL
    versions        integer not null,
    superseded_at   timestamptz,              -- when the next version was first seen
    is_latest       boolean not null,
    cluster_id      varchar not null,
    match_kind      varchar not null,         -- how this version joined its cluster
    url_match_kind  varchar not null          -- how the URL's first version did
);

insert into article_facts
with ranked as (
    select
        articles.article_id,
        articles.canonical_url,
        articles.source_id,
        articles.first_seen_at,
        coalesce(articles.published_at, articles.first_seen_at) as appeared_at,
        coalesce(article_clusters.cluster_id, articles.article_id) as cluster_id,
        coalesce(article_clusters.match_kind, 'original') as match_kind,
        row_number() over by_url as version,
        count(*) over (partition by articles.canonical_url) as versions,
        lead(articles.first_seen_at) over by_url as superseded_at,
        first_value(coalesce(article_clusters.match_kind, 'original')) over by_url as url_match_kind
    from articles
    left join article_clusters on article_clusters.article_id = articles.article_id
    window by_url as (partition by articles.canonical_url order by articles.first_seen_at, articles.article_id)
)
select
    article_id, canonical_url, source_id, first_seen_at, appeared_at, cast(appeared_at as date), version,
    versions, superseded_at, version = versions, cluster_id, match_kind, url_match_kind
from ranked
order by cast(appeared_at as date), article_id;
