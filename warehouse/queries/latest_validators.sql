-- What the warehouse knows of each URL's last fetch: the validators and body hash of its latest
-- complete 200 (sent as If-None-Match / If-Modified-Since next time), and when it was last had
-- (a 200 or a 304), which a sitemap's lastmod is compared with. Bound parameter: the list of URLs.
-- Only fetches of runs that completed count: a feed fetched by a run that was killed (or failed)
-- before it processed the feed's items must be read again, or those items would be lost for ever;
-- so must one whose staged batch was quarantined as corrupt (its documents never reached the tables).
select
    fetches.url,
    arg_max(fetches.etag, fetches.fetched_at) filter (where fetches.status_code = 200) as etag,
    arg_max(fetches.last_modified, fetches.fetched_at) filter (where fetches.status_code = 200) as last_modified,
    arg_max(fetches.body_sha256, fetches.fetched_at) filter (where fetches.status_code = 200) as body_sha256,
    max(fetches.fetched_at) as fetched_at
from fetches
inner join runs
    on runs.run_id = fetches.run_id
where fetches.error_type is null
  and fetches.status_code in (200, 304)
  and runs.status = 'completed'
  and not exists (
      select 1
      from rejections
      where rejections.run_id = runs.run_id
        and rejections.error_type = 'corrupt_stage'
  )
  and list_contains(?, fetches.url)
group by fetches.url
