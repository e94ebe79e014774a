-- Every article a staged batch names: whether its articles.jsonl holds it, whether an enrichment file
-- does, and whether the warehouse holds it already. Bound parameter: the staged files' paths (a JSON list). The held
-- ones are found by their 64-bit key in article_facts (one row per stored article): a scan of integers,
-- not of every stored article's id.
with named as (
    select staged.article_id, parse_filename(staged.filename) = 'articles.jsonl' as in_articles
    from read_json(?::json::varchar[], format = 'newline_delimited', columns = {article_id: 'varchar'}, filename = true)
        as staged
),

ids as (
    select
        named.article_id,
        md5_number_lower(named.article_id) as article_key,
        bool_or(named.in_articles) as in_articles,
        bool_or(not named.in_articles) as in_enrichments
    from named
    group by named.article_id
),

held as (
    select article_facts.article_key
    from article_facts
    where article_facts.article_key in (select ids.article_key from ids)
)

select ids.article_id, ids.in_articles, ids.in_enrichments, ids.article_key in (select held.article_key from held)
from ids
