-- Conditional requests and unchanged sources (issue 3). A fetch that read a complete 200 body records
-- the body's sha256, so a feed or sitemap served without validators is still known to be unchanged;
-- ETag and Last-Modified were recorded per request from the start. A run counts the documents that
-- were not modified (304, or a sitemap lastmod no newer than the last fetch) apart from rejections.

alter table fetches add column body_sha256 varchar;
alter table runs add column not_modified integer default 0;
