-- The other articles of a duplicate cluster (latest versions).
select latest_articles.article_id, latest_articles.source_id, latest_articles.title, latest_articles.match_kind
from latest_articles
where latest_articles.cluster_id = $cluster_id and latest_articles.article_id <> $article_id
order by latest_articles.first_seen_at
