-- The staged articles of a batch that have no story cluster yet, oldest first. The clusters looked up are
-- those of the staged ids only (an anti-join with all of article_clusters hashes every stored id).
with staged as (
    select *
    from read_json(?, format = 'newline_delimited', columns = {
        article_id: 'varchar', canonical_url: 'varchar', content_hash: 'varchar', text: 'varchar',
        first_seen_at: 'timestamptz'
    })
),

clustered as materialized (
    select article_clusters.article_id
    from article_clusters
    where article_clusters.article_id in (select staged.article_id from staged)
)

select staged.article_id, staged.canonical_url, staged.content_hash, staged.text
from staged
where staged.article_id not in (select clustered.article_id from clustered)
qualify row_number() over (partition by staged.article_id order by staged.first_seen_at) = 1
order by staged.first_seen_at, staged.article_id
