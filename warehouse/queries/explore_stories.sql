-- The selection's stories: the 20 clusters with most articles in it (latest first on a tie), one row
-- per member article (up to 10 copies each): the cluster's original (its earliest published member, as
-- in duplicate_clusters) first, then its copies, with role how the copy's URL joined the cluster (exact
-- or near; copy when it was seen first but appeared later), source and URL; copies counts every member.
-- Members are the clusters' latest versions in article_facts; only the titles shown are read from articles.
-- The selection holds 64-bit cluster keys: cluster_ids (for the order on a tie) are read for the twenty
-- and the clusters tied with the twentieth only.
with counted as (
    select selection.cluster_key, count(*) as selected, max(selection.article_date) as last_day
    from selection
    group by selection.cluster_key
),

twentieth as (
    select counted.selected, counted.last_day
    from counted
    order by counted.selected desc, counted.last_day desc
    limit 1 offset 19
),

-- every cluster ranked at least as high as the twentieth (all of them when there are fewer), ties included
ranked_high as (
    select counted.*
    from counted
    where not exists (select 1 from twentieth)
        or counted.selected > (select twentieth.selected from twentieth)
        or (counted.selected = (select twentieth.selected from twentieth)
            and counted.last_day >= (select twentieth.last_day from twentieth))
),

candidates as (
    select ranked_high.*, story_clusters.cluster_id
    from ranked_high
    inner join story_clusters on story_clusters.cluster_key = ranked_high.cluster_key
),

clusters as (
    select candidates.*
    from candidates
    order by candidates.selected desc, candidates.last_day desc, candidates.cluster_id
    limit 20
),

members as (
    select
        facts.cluster_key,
        facts.article_id,
        facts.source_id,
        facts.article_date,
        facts.canonical_url,
        facts.url_match_kind,
        row_number() over (
            partition by facts.cluster_key order by facts.appeared_at, facts.article_id
        ) as position,
        count(*) over (partition by facts.cluster_key) as copies
    from article_facts as facts
    where facts.is_latest
        and facts.cluster_key in (select clusters.cluster_key from clusters)
),

shown as materialized (
    select members.*
    from members
    where members.position <= 11
),

titles as (
    select articles.article_id, articles.title
    from articles
    where articles.article_id in (select shown.article_id from shown)
)

select
    clusters.cluster_id,
    case when shown.position = 1 then 'original'
         when shown.url_match_kind = 'original' then 'copy'
         else shown.url_match_kind end as role,
    shown.article_id,
    shown.source_id,
    shown.article_date,
    titles.title,
    shown.canonical_url,
    shown.copies
from clusters
inner join shown on shown.cluster_key = clusters.cluster_key
inner join titles on titles.article_id = shown.article_id
order by clusters.selected desc, clusters.last_day desc, clusters.cluster_id, shown.position
