-- See return_untouched_facts.sql.
delete from facts_old
where facts_old.canonical_url not in (select load_urls.url from load_urls)
    and facts_old.article_id not in (select load_changed.article_id from load_changed)
