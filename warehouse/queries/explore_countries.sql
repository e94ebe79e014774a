-- Countries on the map: per ISO country code, the selection's stories and articles that name a place
-- in it (the country itself, a region or a city), from the countries article_facts lists per article
-- (place_countries, each once). A country's stories are its articles less the extra articles of one story,
-- so only the stories with several articles (story_clusters' copies) are grouped by story.
with shared_stories as (
    select story_clusters.cluster_key
    from story_clusters
    where story_clusters.copies > 1
),

placed as materialized (
    select
        selection.cluster_key,
        shared_stories.cluster_key is not null as shared,
        unnest(facts.place_countries) as country_code
    from selection
    inner join article_facts as facts on facts.article_key = selection.article_key
    left join shared_stories on shared_stories.cluster_key = selection.cluster_key
),

counted as (
    select placed.country_code, count(*) as articles
    from placed
    group by placed.country_code
),

repeats as (
    select in_story.country_code, sum(in_story.articles - 1) as extra
    from (
        select placed.country_code, placed.cluster_key, count(*) as articles
        from placed
        where placed.shared
        group by placed.country_code, placed.cluster_key
    ) as in_story
    group by in_story.country_code
)

select
    counted.country_code,
    counted.articles - coalesce(repeats.extra, 0)::bigint as stories,
    counted.articles
from counted
left join repeats on repeats.country_code = counted.country_code
order by stories desc, counted.country_code
