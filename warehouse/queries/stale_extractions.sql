-- Articles made by another extractor (release, settings or canonical-URL rules) than the current one: the
-- source's own where its [extract] overrides make one ($sources and $extractors, pairwise), else $extractor.
with source_extractors as (
    select
        unnest($sources::varchar[]) as source_id,
        unnest($extractors::varchar[]) as extractor
)

select articles.article_id
from articles
left join source_extractors on source_extractors.source_id = articles.source_id
where articles.extractor <> coalesce(source_extractors.extractor, $extractor)
order by articles.first_seen_at, articles.article_id
limit $max_articles
