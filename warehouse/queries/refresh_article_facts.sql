-- The article_facts rows of these canonical URLs, recomputed from articles and article_clusters (run by a
-- load after its articles are inserted and clustered; see migration 0010). Bound parameter: the URLs.
-- The caller first deletes the URLs' old rows (delete_article_facts.sql), in the same transaction.
insert into article_facts
with touched as (
    select articles.*
    from articles
    where list_contains(?::varchar[], articles.canonical_url)
),

ranked as (
    select
        touched.article_id,
        touched.canonical_url,
        touched.source_id,
        touched.first_seen_at,
        coalesce(touched.published_at, touched.first_seen_at) as appeared_at,
        coalesce(article_clusters.cluster_id, touched.article_id) as cluster_id,
        coalesce(article_clusters.match_kind, 'original') as match_kind,
        row_number() over by_url as version,
        count(*) over (partition by touched.canonical_url) as versions,
        lead(touched.first_seen_at) over by_url as superseded_at,
        first_value(coalesce(article_clusters.match_kind, 'original')) over by_url as url_match_kind
    from touched
    left join article_clusters
        on article_clusters.article_id = touched.article_id
        and article_clusters.article_id in (select article_id from touched)
    window by_url as (partition by touched.canonical_url order by touched.first_seen_at, touched.article_id)
)

select
    article_id, canonical_url, source_id, first_seen_at, appeared_at, cast(appeared_at as date), version,
    versions, superseded_at, version = versions, cluster_id, match_kind, url_match_kind
from ranked
