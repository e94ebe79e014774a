-- Article versions at these canonical URLs (cluster_members.sql keeps those that are clustered).
select articles.article_id
from articles
where list_contains(?::varchar[], articles.canonical_url)
