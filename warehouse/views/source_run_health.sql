-- Extraction health of each source in each run: new articles, empty bodies, missing dates, text length.
-- A publisher that changes its layout shows here first: empty bodies or missing dates jump. run_status
-- tells a finished run (completed) from one cut short (running, failed, interrupted, abandoned).
create or replace view source_run_health as
with extracted as (
    select
        articles.source_id,
        articles.run_id,
        count(*) as articles,
        count(*) filter (where articles.published_at is null) as missing_dates,
        avg(articles.text_chars) as mean_text_chars
    from articles
    group by articles.source_id, articles.run_id
),

empty_bodies as (
    select
        rejections.source_id,
        rejections.run_id,
        count(*) as empty_bodies
    from rejections
    where rejections.stage = 'extract' and rejections.error_type = 'no_text'
    group by rejections.source_id, rejections.run_id
),

combined as (
    select
        coalesce(extracted.source_id, empty_bodies.source_id) as source_id,
        coalesce(extracted.run_id, empty_bodies.run_id) as run_id,
        coalesce(extracted.articles, 0) as articles,
        coalesce(extracted.missing_dates, 0) as missing_dates,
        coalesce(empty_bodies.empty_bodies, 0) as empty_bodies,
        extracted.mean_text_chars
    from extracted
    full outer join empty_bodies
        on empty_bodies.source_id = extracted.source_id
        and empty_bodies.run_id = extracted.run_id
)

select
    combined.source_id,
    combined.run_id,
    runs.started_at,
    combined.articles,
    combined.empty_bodies,
    combined.missing_dates,
    combined.empty_bodies / nullif(combined.articles + combined.empty_bodies, 0) as empty_body_rate,
    combined.missing_dates / nullif(combined.articles, 0) as missing_date_rate,
    combined.mean_text_chars,
    runs.status as run_status
from combined
left join runs on runs.run_id = combined.run_id
order by runs.started_at, combined.source_id
