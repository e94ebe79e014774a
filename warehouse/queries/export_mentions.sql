-- `broadsheet export`: mentions with their article's date (the partition).
select mentions.*, v.article_date from mentions join article_versions v using (article_id)
