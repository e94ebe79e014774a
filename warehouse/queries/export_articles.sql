-- `broadsheet export`: every article version, partitioned by article_date.
select * exclude (url), url from article_versions
