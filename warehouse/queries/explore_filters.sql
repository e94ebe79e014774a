-- The search's filters (search_filters.sql) over article_facts rows, for the explorer's selection: the same
-- articles pass, but an entity is matched by the 64-bit keys each row lists (entity_keys) rather than by
-- reading article_entities, and a topic's articles by their 64-bit article_key (named parameters, null
-- means no filter).
(cast($since as date) is null or documents.article_date >= cast($since as date))
and (cast($until as date) is null or documents.article_date <= cast($until as date))
and (cast($source as varchar) is null or documents.source_id = $source)
and (cast($entity as varchar) is null or list_has_any(documents.entity_keys, (
    select coalesce(list(entities.entity_key), [])
    from entities
    where lower(entities.name) = lower($entity) or entities.entity_id = $entity
)))
and (cast($topic as varchar) is null or documents.article_key in (
    select md5_number_lower(article_topics.article_id)
    from article_topics
    left join (
        select topics.topic_id, topics.taxonomy_version
        from topics
        where lower(topics.label) = lower($topic)
    ) as labelled
        on labelled.topic_id = article_topics.topic_id
        and labelled.taxonomy_version = article_topics.taxonomy_version
    where article_topics.topic_id = $topic or labelled.topic_id is not null
))
