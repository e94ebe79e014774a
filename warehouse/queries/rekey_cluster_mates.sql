-- The canonical URLs of the articles in the story clusters founded by, or matched to, these (re-keyed) ids:
-- their article_facts name the cluster by id, so a load recomputes them (warehouse/rekey.py).
select distinct articles.canonical_url
from article_clusters
join articles on articles.article_id = article_clusters.article_id
where list_contains(?::varchar[], article_clusters.cluster_id)
    or list_contains(?::varchar[], article_clusters.matched_article_id)
