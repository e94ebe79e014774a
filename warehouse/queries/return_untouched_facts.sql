-- article_facts rows taken out only because their URL's 64-bit key equals a touched URL's (a collision of
-- two strings' md5): they go back unchanged (delete_untouched_facts.sql then drops them from facts_old).
insert into article_facts
select facts_old.*
from facts_old
where facts_old.canonical_url not in (select load_urls.url from load_urls)
    and facts_old.article_id not in (select load_changed.article_id from load_changed)
