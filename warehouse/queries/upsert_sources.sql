-- Add a configured source or update its kind, location and schedule (a merge: DuckLake has no keys
-- for `on conflict`). Bound parameters: source_id, kind, location, schedule, created_at, updated_at.
merge into sources
using (
    select
        ?::varchar as source_id,
        ?::varchar as kind,
        ?::varchar as location,
        ?::varchar as schedule,
        ?::timestamptz as created_at,
        ?::timestamptz as updated_at
) as new
on sources.source_id = new.source_id
when matched then update set
    kind = new.kind, location = new.location, schedule = new.schedule, updated_at = new.updated_at
when not matched then insert values
    (new.source_id, new.kind, new.location, new.schedule, new.created_at, new.updated_at)
