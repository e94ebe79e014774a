-- `broadsheet export`: article_topics with their article's date (the partition).
select t.*, v.article_date from article_topics t join article_versions v using (article_id)
