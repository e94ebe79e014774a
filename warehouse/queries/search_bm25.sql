-- Full-text search: BM25 over title and text of the latest versions, best first.
with scored as (
    select
        documents.*,
        fts_main_documents.match_bm25(documents.article_id, $query) as score
    from documents
)

select
    documents.article_id,
    documents.title,
    documents.source_id,
    documents.article_date,
    documents.canonical_url,
    documents.cluster_id,
    documents.score
from scored as documents
where documents.score is not null and {filters}
order by documents.score desc, documents.article_id
limit $limit
