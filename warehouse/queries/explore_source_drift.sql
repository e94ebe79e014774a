-- Each source's latest completed run beside its other runs, in source_health_of_run's columns, for the
-- drift warnings the ingest reports (flows/report.py): documents, empty-body rate, missing-date rate and
-- mean text length of the latest run, then the history's article count and the same over the others.
-- A run still going or cut short (running, failed, interrupted, abandoned) is never the latest.
with latest as (
    select source_run_health.source_id, arg_max(source_run_health.run_id, source_run_health.started_at) as run_id
    from source_run_health
    where source_run_health.run_status = 'completed'
    group by source_run_health.source_id
),

runs as (
    select source_run_health.*, source_run_health.run_id = latest.run_id as is_latest
    from source_run_health
    inner join latest on latest.source_id = source_run_health.source_id
)

select
    source_id,
    sum(articles + empty_bodies) filter (where is_latest) as documents,
    sum(empty_bodies) filter (where is_latest) / nullif(sum(articles + empty_bodies) filter (where is_latest), 0) as empty_body_rate,
    sum(missing_dates) filter (where is_latest) / nullif(sum(articles) filter (where is_latest), 0) as missing_date_rate,
    sum(mean_text_chars * articles) filter (where is_latest) / nullif(sum(articles) filter (where is_latest), 0) as mean_text_chars,
    coalesce(sum(articles) filter (where not is_latest), 0) as history_articles,
    sum(empty_bodies) filter (where not is_latest) / nullif(sum(articles + empty_bodies) filter (where not is_latest), 0) as usual_empty_body_rate,
    sum(missing_dates) filter (where not is_latest) / nullif(sum(articles) filter (where not is_latest), 0) as usual_missing_date_rate,
    sum(mean_text_chars * articles) filter (where not is_latest) / nullif(sum(articles) filter (where not is_latest), 0) as usual_text_chars
from runs
group by source_id
order by source_id
