-- `broadsheet export`: entities, as one file.
select * from entities
