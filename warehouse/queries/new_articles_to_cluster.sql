-- The staged articles of a batch that have no story cluster yet, oldest first, with their content hash's
-- 64-bit key (as text: what clustering compares). Their cluster rows are looked up by key (a collision
-- would only leave an article unclustered, as a hash collision of its id would), so the scan reads
-- integers, not every stored id.
with staged as (
    select *
    from read_json(?, format = 'newline_delimited', columns = {
        article_id: 'varchar', canonical_url: 'varchar', content_hash: 'varchar', text: 'varchar',
        first_seen_at: 'timestamptz'
    })
),

clustered as materialized (
    select article_clusters.article_key
    from article_clusters
    where article_clusters.article_key in (select md5_number_lower(staged.article_id) from staged)
)

select staged.article_id, staged.canonical_url, md5_number_lower(staged.content_hash)::varchar, staged.text
from staged
where md5_number_lower(staged.article_id) not in (select clustered.article_key from clustered)
qualify row_number() over (partition by staged.article_id order by staged.first_seen_at) = 1
order by staged.first_seen_at, staged.article_id
