-- The entities whose entity_mention_totals a load changes (temp table load_entities): those its new mentions
-- name, and those the changed articles' mentions named before or name now.
create or replace temp table load_entities as
select distinct named.entity_id
from (
    select fresh_mentions.entity_id from fresh_mentions
    union all
    select mention_before.entity_id from mention_before
    union all
    select mentions.entity_id from mentions where mentions.article_id in (select load_changed.article_id from load_changed)
) as named
