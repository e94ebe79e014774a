-- `broadsheet export`: runs, as one file.
select * from runs
