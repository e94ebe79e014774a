-- What the warehouse knows of each URL's last fetch: the validators and body hash of its latest
-- complete 200 (sent as If-None-Match / If-Modified-Since next time), and when it was last had
-- (a 200 or a 304), which a sitemap's lastmod is compared with. Bound parameter: the list of URLs.
select
    url,
    arg_max(etag, fetched_at) filter (where status_code = 200) as etag,
    arg_max(last_modified, fetched_at) filter (where status_code = 200) as last_modified,
    arg_max(body_sha256, fetched_at) filter (where status_code = 200) as body_sha256,
    max(fetched_at) as fetched_at
from fetches
where error_type is null
  and status_code in (200, 304)
  and list_contains(?, url)
group by url
