-- The canonical URLs whose article_facts a load rewrites, with their 64-bit keys (temp table load_urls): the
-- URLs it names (bound parameter: those of the articles it clustered and re-keyed) and those of the
-- articles whose rows changed in place, already taken out into facts_old.
create or replace temp table load_urls as
select distinct touched.url, md5_number_lower(touched.url) as url_key
from (
    select unnest(?::json::varchar[]) as url
    union all
    select facts_old.canonical_url from facts_old
) as touched
