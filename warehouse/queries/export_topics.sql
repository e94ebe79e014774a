-- `broadsheet export`: topics, as one file.
select * from topics
