-- `broadsheet export`: article_entities with their article's date (the partition).
select t.*, v.article_date from article_entities t join article_versions v using (article_id)
