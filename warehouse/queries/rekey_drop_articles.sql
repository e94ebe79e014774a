-- The old rows of re-extracted articles; the load inserts their new rows next.
delete from articles
where article_id in (select old_article_id from rekeyed)
