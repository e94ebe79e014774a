-- The URLs among the parameter's the warehouse has seen: a stored page, or a rejection (a 404, robots.txt,
-- a timeout). ingest --limit takes the others, so failures at the head of a big sitemap never stall it.
select pages.url
from pages
where pages.url in (select unnest($urls::varchar[]))
union
select rejections.url
from rejections
where rejections.url in (select unnest($urls::varchar[]))
