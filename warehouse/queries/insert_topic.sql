-- Record a taxonomy topic unless this version already holds it.
-- Bound parameters: topic_id, taxonomy_version, label, description, iptc_code.
insert into topics
select $1, $2, $3, $4, $5
where not exists (
    select 1
    from topics
    where topic_id = $1 and taxonomy_version = $2
)
