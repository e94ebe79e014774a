-- The ids and titles the load knows without reading articles (temp table story_names): the rows of
-- article_facts it rewrote, the clusters' previous originals, and the articles it inserted. The first
-- members of a touched cluster found in none of them (an earlier article became the original) are named by
-- story_clusters_unnamed.sql.
create or replace temp table story_names as
with ids as (
    select facts_new.article_key, facts_new.article_id from facts_new
    union
    select facts_old.article_key, facts_old.article_id from facts_old
    union
    select md5_number_lower(stories_old.original_article_id), stories_old.original_article_id from stories_old
),

titles as (
    select distinct stories_old.original_article_id as article_id, stories_old.original_title as title
    from stories_old
    union
    select fresh_articles.article_id, fresh_articles.title from fresh_articles
)

select ids.article_key, ids.article_id, titles.title, titles.article_id is not null as title_known
from ids
left join titles on titles.article_id = ids.article_id
where ids.article_key in (select story_firsts.article_key from story_firsts)
