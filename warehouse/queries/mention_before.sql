-- What the mentions of the articles whose rows a load changes in place (load_changed) count before it
-- changes them, per entity and article (entity_mention_totals_again.sql subtracts it).
create or replace temp table mention_before as
select mentions.entity_id, mentions.article_id, count(*) as mentions
from mentions
where mentions.article_id in (select load_changed.article_id from load_changed)
group by mentions.entity_id, mentions.article_id
