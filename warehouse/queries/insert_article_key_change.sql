insert into article_key_changes (old_article_id, new_article_id, old_canonical_url, new_canonical_url, run_id,
                                 changed_at)
values (?, ?, ?, ?, ?, ?)
