-- The staged articles of a batch that have no story cluster yet, oldest first.
select staged.article_id, staged.canonical_url, staged.content_hash, staged.text
from read_json(?, format = 'newline_delimited', columns = {
    article_id: 'varchar', canonical_url: 'varchar', content_hash: 'varchar', text: 'varchar',
    first_seen_at: 'timestamptz'
}) as staged
where not exists (
    select 1 from article_clusters where article_clusters.article_id = staged.article_id
)
qualify row_number() over (partition by staged.article_id order by staged.first_seen_at) = 1
order by staged.first_seen_at, staged.article_id
