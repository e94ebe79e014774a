-- What the full-text index holds: the latest version of each article, with what search filters on.
create or replace table documents as
select
    latest.article_id,
    latest.title,
    latest.text,
    latest.source_id,
    latest.article_date,
    latest.canonical_url,
    latest.cluster_id
from warehouse.latest_articles as latest
