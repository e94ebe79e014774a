-- One article version by its id, its URL or its canonical URL (the latest version when a URL is given).
select
    article_versions.article_id,
    article_versions.title,
    article_versions.url,
    article_versions.canonical_url,
    article_versions.source_id,
    article_versions.authors,
    article_versions.published_at,
    article_versions.first_seen_at,
    article_versions.article_date,
    article_versions.language,
    article_versions.site,
    length(article_versions.text) as text_chars,
    article_versions.content_hash,
    article_versions.version,
    article_versions.versions,
    article_versions.is_latest,
    article_versions.cluster_id,
    article_versions.match_kind
from article_versions
where article_versions.article_id = $key or article_versions.url = $key or article_versions.canonical_url = $key
order by (article_versions.article_id = $key) desc, article_versions.is_latest desc, article_versions.version desc
limit 1
