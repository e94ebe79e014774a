-- How many topics of one taxonomy version are recorded. Bound parameter: the taxonomy version.
select count(*) as topics
from topics
where taxonomy_version = ?
