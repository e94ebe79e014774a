-- The earliest clustered article with each of these content hashes (an exact copy joins its cluster).
-- cluster_members.sql keeps those that are clustered; this takes, per hash, the earliest of them.
with matched as materialized (
    select articles.article_id, articles.content_hash, articles.first_seen_at
    from articles
    where list_contains(?::varchar[], articles.content_hash)
)

select matched.article_id
from matched
where matched.article_id in (
    select article_clusters.article_id
    from article_clusters
    where article_clusters.article_id in (select matched.article_id from matched)
)
qualify row_number() over (partition by matched.content_hash order by matched.first_seen_at, matched.article_id) = 1
