-- Clustered article versions at these canonical URLs (their members are read by cluster_members.sql).
select articles.article_id
from articles
where list_contains(?::varchar[], articles.canonical_url)
    and exists (select 1 from article_clusters where article_clusters.article_id = articles.article_id)
