-- Article keys that changed (issue 23): `broadsheet reextract` re-extracts stored pages when the extractor,
-- its settings or the canonical-URL rules change, and an article whose canonical URL or text changed gets a
-- new id. Its enrichment rows move to the new id (or are redone); this table keeps every old id and
-- canonical URL joinable to the new ones, e.g. for ids kept outside the warehouse:
--   select coalesce(k.new_article_id, mine.article_id) from mine left join article_key_changes k
--   on k.old_article_id = mine.article_id

create table article_key_changes (
    old_article_id     varchar not null,
    new_article_id     varchar not null,
    old_canonical_url  varchar not null,
    new_canonical_url  varchar not null,
    run_id             varchar not null,
    changed_at         timestamptz not null
);
