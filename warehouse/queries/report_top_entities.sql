-- `broadsheet stats`: the most mentioned entities. Bound parameter: how many.
select name, entity_type, articles, mentions
from entity_mention_counts
limit ?
