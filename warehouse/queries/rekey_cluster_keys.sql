-- A moved article_clusters row takes its new id's 64-bit key (migration 0012) with it.
update article_clusters
set article_key = md5_number_lower(article_clusters.article_id)
where article_clusters.article_id in (select rekeyed.new_article_id from rekeyed)
