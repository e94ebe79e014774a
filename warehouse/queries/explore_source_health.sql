-- Source health (the source_health view) with each source's last 30 runs, oldest first, as lists for
-- sparklines: new articles and empty-body rate per run.
with recent as (
    select
        source_run_health.source_id,
        source_run_health.started_at,
        source_run_health.articles,
        source_run_health.empty_body_rate,
        row_number() over (
            partition by source_run_health.source_id order by source_run_health.started_at desc
        ) as age
    from source_run_health
),

runs as (
    select
        recent.source_id,
        list(recent.articles order by recent.started_at) as articles_per_run,
        list(round(coalesce(recent.empty_body_rate, 0), 3) order by recent.started_at) as empty_body_rate_per_run
    from recent
    where recent.age <= 30
    group by recent.source_id
)

select
    source_health.*,
    runs.articles_per_run,
    runs.empty_body_rate_per_run
from source_health
left join runs on runs.source_id = source_health.source_id
order by source_health.source_id
