-- The story clusters of the article_facts rows a load rewrote (temp table load_stories), before or after:
-- their rows in topic_day_stories and story_clusters are recomputed.
create or replace temp table load_stories as
select distinct touched.cluster_key
from (
    select facts_old.cluster_key from facts_old
    union all
    select facts_new.cluster_key from facts_new
) as touched
