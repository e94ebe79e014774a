-- Articles whose enrichment was made by other enrichers than the current ones (or never recorded).
select articles.article_id
from articles
left join article_enrichments
    on article_enrichments.article_id = articles.article_id
where article_enrichments.article_id is null
    or article_enrichments.entity_enricher <> $entity_enricher
    or article_enrichments.topic_enricher <> $topic_enricher
order by articles.first_seen_at, articles.article_id
limit $max_articles
