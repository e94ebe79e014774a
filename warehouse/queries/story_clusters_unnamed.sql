-- First members of touched clusters that story_names lacks, named from article_facts and articles (a scan
-- of their ids: only when an article the load did not touch became a cluster's original).
insert into story_names
with unnamed as (
    select story_firsts.article_key
    from story_firsts
    where story_firsts.article_key not in (select story_names.article_key from story_names)
),

ids as (
    select article_facts.article_key, article_facts.article_id
    from article_facts
    where article_facts.article_key in (select unnamed.article_key from unnamed)
)

select ids.article_key, ids.article_id, articles.title, true
from ids
inner join articles on articles.article_id = ids.article_id
