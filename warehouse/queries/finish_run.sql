-- A flow run ends: its status and the documents each stage saw.
-- Bound parameters: status, the counts in RunCounts' order, ended_at, run_id.
update runs
set status = ?, discovered = ?, fetched = ?, extracted = ?, duplicates = ?, enriched = ?,
    loaded = ?, rejected = ?, not_modified = ?, ended_at = ?
where run_id = ?
