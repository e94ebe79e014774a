-- `broadsheet export`: sources, as one file.
select * from sources
