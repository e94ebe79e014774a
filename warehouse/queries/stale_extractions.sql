-- Articles made by another extractor (release, settings or canonical-URL rules) than the current one.
select articles.article_id
from articles
where articles.extractor <> $extractor
order by articles.first_seen_at, articles.article_id
limit $max_articles
