-- The compressed raw body (gzip) of every archived page, to re-extract without a re-fetch.
-- On DuckDB a writer re-creates this view over the page archive too (warehouse/archive.py).
create or replace view page_bodies as
select page_id, content_gzip from pages where content_gzip is not null;
