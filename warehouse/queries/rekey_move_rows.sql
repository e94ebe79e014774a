-- The remaining rows of {table} under a re-extracted article's old id move to its new id.
update {table}
set article_id = rekeyed.new_article_id
from rekeyed
where {table}.article_id = rekeyed.old_article_id
    and rekeyed.old_article_id <> rekeyed.new_article_id
