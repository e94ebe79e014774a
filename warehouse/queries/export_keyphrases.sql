-- `broadsheet export`: keyphrases with their article's date (the partition).
select t.*, v.article_date from keyphrases t join article_versions v using (article_id)
