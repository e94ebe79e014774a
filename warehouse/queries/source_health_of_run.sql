-- Each source's extraction in one run beside its earlier runs (rates in 0..1, null when unknown):
-- documents, empty-body rate, missing-date rate, mean text length, then the history's article count
-- and the same three figures over the earlier runs. Named parameter: $run.
select
    source_id,
    sum(articles + empty_bodies) filter (where run_id = $run) as documents,
    sum(empty_bodies) filter (where run_id = $run) / nullif(sum(articles + empty_bodies) filter (where run_id = $run), 0),
    sum(missing_dates) filter (where run_id = $run) / nullif(sum(articles) filter (where run_id = $run), 0),
    sum(mean_text_chars * articles) filter (where run_id = $run) / nullif(sum(articles) filter (where run_id = $run), 0),
    coalesce(sum(articles) filter (where run_id <> $run), 0),
    sum(empty_bodies) filter (where run_id <> $run) / nullif(sum(articles + empty_bodies) filter (where run_id <> $run), 0),
    sum(missing_dates) filter (where run_id <> $run) / nullif(sum(articles) filter (where run_id <> $run), 0),
    sum(mean_text_chars * articles) filter (where run_id <> $run) / nullif(sum(articles) filter (where run_id <> $run), 0)
from source_run_health
where source_id in (select source_id from source_run_health where run_id = $run)
group by source_id
order by source_id
