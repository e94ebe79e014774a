-- `broadsheet export`: article_subtopics with their article's date (the partition).
select t.*, v.article_date from article_subtopics t join article_versions v using (article_id)
