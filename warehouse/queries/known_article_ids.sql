-- Which of the given article ids the warehouse holds. Bound parameter: the list of ids.
select article_id
from articles
where list_contains(?, article_id)
