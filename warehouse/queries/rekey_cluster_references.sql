-- Other members of a story cluster name its founder (cluster_id) and their match (matched_article_id) by id.
update article_clusters
set cluster_id = case when cluster_id = rekeyed.old_article_id then rekeyed.new_article_id else cluster_id end,
    matched_article_id = case
        when matched_article_id = rekeyed.old_article_id then rekeyed.new_article_id else matched_article_id end
from rekeyed
where rekeyed.old_article_id <> rekeyed.new_article_id
    and rekeyed.old_article_id in (article_clusters.cluster_id, article_clusters.matched_article_id)
