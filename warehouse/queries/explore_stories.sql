-- The selection's stories: the 20 clusters with most articles in it (latest first on a tie), one row
-- per member article (up to 10 copies each): the cluster's original (its earliest published member, as
-- in duplicate_clusters) first, then its copies, with role how the copy's URL joined the cluster (exact
-- or near; copy when it was seen first but appeared later), source and URL; copies counts every member.
with clusters as (
    select selection.cluster_id, count(*) as selected, max(selection.article_date) as last_day
    from selection
    group by selection.cluster_id
    order by selected desc, last_day desc, selection.cluster_id
    limit 20
),

members as (
    select
        latest_articles.*,
        coalesce(latest_articles.published_at, latest_articles.first_seen_at) as appeared_at,
        row_number() over (
            partition by latest_articles.cluster_id
            order by coalesce(latest_articles.published_at, latest_articles.first_seen_at), latest_articles.article_id
        ) as position,
        count(*) over (partition by latest_articles.cluster_id) as copies
    from latest_articles
    where latest_articles.cluster_id in (select clusters.cluster_id from clusters)
)

select
    clusters.cluster_id,
    case when members.position = 1 then 'original'
         when members.url_match_kind = 'original' then 'copy'
         else members.url_match_kind end as role,
    members.article_id,
    members.source_id,
    members.article_date,
    members.title,
    members.canonical_url,
    members.copies
from clusters
inner join members on members.cluster_id = clusters.cluster_id
where members.position <= 11
order by clusters.selected desc, clusters.last_day desc, clusters.cluster_id, members.position
