-- Which articles named in these staged files the warehouse holds already. Bound parameter: the files'
-- paths. Reads articles once, probing the few staged ids (not the other way round, which hashes every
-- stored article id on each load).
select distinct articles.article_id
from articles
where articles.article_id in (
    select staged.article_id
    from read_json(?::varchar[], format = 'newline_delimited', columns = {article_id: 'varchar'}) as staged
)
