-- The selection's stories: the 20 clusters with most articles in it (latest first on a tie), one row
-- per member article: the cluster's original first, then its copies (role: how the copy matched, exact or
-- near, or copy when it was seen first but appeared later), each with its source and URL.
with clusters as (
    select selection.cluster_id, count(*) as selected, max(selection.article_date) as last_day
    from selection
    group by selection.cluster_id
    order by selected desc, last_day desc, selection.cluster_id
    limit 20
)

select
    clusters.cluster_id,
    case when members.article_id = duplicate_clusters.original_article_id then 'original'
         when members.url_match_kind = 'original' then 'copy'  -- seeded the cluster, but appeared later
         else members.url_match_kind end as role,
    members.article_id,
    members.source_id,
    members.article_date,
    members.title,
    members.canonical_url,
    duplicate_clusters.copies
from clusters
inner join duplicate_clusters on duplicate_clusters.cluster_id = clusters.cluster_id
inner join latest_articles as members on members.cluster_id = clusters.cluster_id
order by
    clusters.selected desc,
    clusters.last_day desc,
    clusters.cluster_id,
    members.article_id <> duplicate_clusters.original_article_id,
    members.article_date,
    members.article_id
