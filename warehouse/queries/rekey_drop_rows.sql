-- Rows of {table} that do not move to a re-extracted article's new id: its text or title changed, or the
-- new id already has rows (an article already there, or an earlier old article of the same new id).
delete from {table}
where article_id in (
    select rekeyed.old_article_id
    from rekeyed
    where not rekeyed.keep_enrichment
        or (
            rekeyed.old_article_id <> rekeyed.new_article_id
            and (
                exists (select 1 from {table} as existing where existing.article_id = rekeyed.new_article_id)
                or rekeyed.old_article_id <> (
                    select min(same_new.old_article_id)
                    from rekeyed as same_new
                    where same_new.new_article_id = rekeyed.new_article_id and same_new.keep_enrichment
                )
            )
        )
)
