-- The articles (id and canonical URL) in the story clusters founded by, or matched to, these ids, about to
-- be re-keyed: their cluster rows will name the new id, so a load rebuilds their article_facts (warehouse/rekey.py).
select distinct articles.article_id, articles.canonical_url
from article_clusters
join articles on articles.article_id = article_clusters.article_id
where list_contains(?::varchar[], article_clusters.cluster_id)
    or list_contains(?::varchar[], article_clusters.matched_article_id)
