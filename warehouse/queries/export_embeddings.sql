-- `broadsheet export`: embeddings with their article's date (the partition).
select t.*, v.article_date from embeddings t join article_versions v using (article_id)
