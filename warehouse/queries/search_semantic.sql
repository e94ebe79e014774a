-- Semantic search: cosine similarity of the stored lead embeddings with the query's, best first.
select
    documents.article_id,
    documents.title,
    documents.source_id,
    documents.article_date,
    documents.canonical_url,
    documents.cluster_id,
    list_dot_product(embeddings.vector, cast($vector as float[])) as score
from documents
inner join warehouse.embeddings as embeddings
    on embeddings.article_id = documents.article_id
    and embeddings.model = $model
where {filters}
order by score desc, documents.article_id
limit $limit
