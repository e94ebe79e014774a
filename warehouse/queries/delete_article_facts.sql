-- The article_facts rows of these canonical URLs, about to be recomputed (refresh_article_facts.sql).
delete from article_facts
where list_contains(?::varchar[], article_facts.canonical_url)
