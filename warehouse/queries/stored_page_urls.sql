-- The URLs among the parameter's that have a stored page (ingest --limit takes the others first).
select distinct pages.url
from pages
where pages.url in (select unnest(?::varchar[]))
