-- Health of each source over all its runs: how many documents were fetched and how many failed to
-- fetch, how many fetched pages gave an article, and the rates that show a broken source or a
-- changed layout: fetch and extraction success, empty bodies, missing publication dates.
-- (source_run_health has the same per run.)
create or replace view source_health as
with fetched as (
    select pages.source_id, count(*) as pages, max(pages.fetched_at) as last_fetched_at
    from pages
    group by pages.source_id
),

failed as (
    select
        rejections.source_id,
        count(*) filter (where rejections.stage in ('discover', 'fetch')) as fetch_failures,
        count(*) filter (where rejections.stage = 'extract') as extract_failures,
        count(*) filter (where rejections.stage = 'extract' and rejections.error_type = 'no_text') as empty_bodies
    from rejections
    group by rejections.source_id
),

extracted as (
    select
        articles.source_id,
        count(*) as articles,
        count(*) filter (where articles.published_at is null) as missing_dates,
        avg(articles.text_chars) as mean_text_chars
    from articles
    group by articles.source_id
),

combined as (
    select
        sources.source_id,
        coalesce(fetched.pages, 0) as pages,
        coalesce(failed.fetch_failures, 0) as fetch_failures,
        coalesce(extracted.articles, 0) as articles,
        coalesce(failed.extract_failures, 0) as extract_failures,
        coalesce(failed.empty_bodies, 0) as empty_bodies,
        coalesce(extracted.missing_dates, 0) as missing_dates,
        extracted.mean_text_chars,
        fetched.last_fetched_at
    from sources
    left join fetched on fetched.source_id = sources.source_id
    left join failed on failed.source_id = sources.source_id
    left join extracted on extracted.source_id = sources.source_id
)

select
    combined.source_id,
    combined.pages,
    combined.fetch_failures,
    combined.articles,
    combined.extract_failures,
    combined.empty_bodies,
    combined.missing_dates,
    round(combined.pages / nullif(combined.pages + combined.fetch_failures, 0), 3) as fetch_success_rate,
    round(1 - combined.extract_failures / nullif(combined.pages, 0), 3) as extraction_success_rate,
    round(combined.empty_bodies / nullif(combined.pages, 0), 3) as empty_body_rate,
    round(combined.missing_dates / nullif(combined.articles, 0), 3) as missing_date_rate,
    round(combined.mean_text_chars) as mean_text_chars,
    combined.last_fetched_at
from combined
order by combined.source_id
