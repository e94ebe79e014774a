-- How many distinct articles of a staged articles.jsonl the warehouse does not hold yet.
-- Bound parameter: the staged file's path.
select count(distinct article_id)
from read_json(?, format = 'newline_delimited', columns = {article_id: 'varchar'})
where article_id not in (select article_id from articles)
