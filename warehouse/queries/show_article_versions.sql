-- Every version of one article (same canonical URL), oldest first.
select
    article_versions.version,
    article_versions.article_id,
    article_versions.title,
    article_versions.first_seen_at,
    article_versions.superseded_at,
    article_versions.is_latest
from article_versions
where article_versions.canonical_url = $canonical_url
order by article_versions.version
