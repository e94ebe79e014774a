-- The filters every search applies to candidate documents (named parameters, null means no filter).
(cast($since as date) is null or documents.article_date >= cast($since as date))
and (cast($until as date) is null or documents.article_date <= cast($until as date))
and (cast($source as varchar) is null or documents.source_id = $source)
and (cast($entity as varchar) is null or exists (
    select 1
    from warehouse.article_entities as article_entities
    inner join warehouse.entities as entities on entities.entity_id = article_entities.entity_id
    where article_entities.article_id = documents.article_id
        and (lower(entities.name) = lower($entity) or entities.entity_id = $entity)
))
and (cast($topic as varchar) is null or exists (
    select 1
    from warehouse.article_topics as article_topics
    left join warehouse.topics as topics
        on topics.topic_id = article_topics.topic_id
        and topics.taxonomy_version = article_topics.taxonomy_version
    where article_topics.article_id = documents.article_id
        and (article_topics.topic_id = $topic or lower(topics.label) = lower($topic))
))
