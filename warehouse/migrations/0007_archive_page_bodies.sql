-- A page's body may live outside the table: on DuckDB, loads write it to the page archive beside the
-- warehouse (warehouse/archive.py) and leave content_gzip null; the view page_bodies reads both places.
--
-- Measured: with bodies in the table, closing a load's connection (a checkpoint) rewrote the bodies
-- appended since the last 2,048-row boundary of pages and took up to 3 times their size in memory,
-- +430 to +690 MB at the top of each cycle on a long ingest. Bodies already in the table stay there.

alter table pages alter column content_gzip drop not null;
