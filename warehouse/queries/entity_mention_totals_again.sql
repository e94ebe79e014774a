-- The entity_mention_totals rows of the entities a load's mentions name (taken out into totals_old), plus
-- the mentions of the articles it added (fresh_mentions), plus those of the articles whose rows changed
-- in place now (load_changed, read from mentions), minus what those had before (mention_before).
insert into entity_mention_totals
with contributions as (
    select totals_old.entity_id, totals_old.articles, totals_old.mentions
    from totals_old

    union all

    select fresh_mentions.entity_id, count(distinct fresh_mentions.article_id), count(*)
    from fresh_mentions
    where fresh_mentions.article_id not in (select load_changed.article_id from load_changed)
    group by fresh_mentions.entity_id

    union all

    select mentions.entity_id, count(distinct mentions.article_id), count(*)
    from mentions
    where mentions.article_id in (select load_changed.article_id from load_changed)
    group by mentions.entity_id

    union all

    select mention_before.entity_id, -count(*), -sum(mention_before.mentions)
    from mention_before
    group by mention_before.entity_id
)

select entity_id, sum(articles)::bigint, sum(mentions)::bigint
from contributions
group by entity_id
having sum(mentions) > 0
