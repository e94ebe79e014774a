-- `broadsheet export`: duplicate_clusters, as one file.
select * from duplicate_clusters
