-- The distinct article ids of a staged articles.jsonl. Bound parameter: the staged file's path.
select distinct article_id
from read_json(?, format = 'newline_delimited', columns = {article_id: 'varchar'})
