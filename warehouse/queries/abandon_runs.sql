-- Runs whose process is gone end as abandoned, unless they recorded an end meanwhile.
-- Bound parameters: ended_at, the list of run ids.
update runs
set status = 'abandoned', ended_at = ?
where status = 'running'
  and list_contains(?, run_id)
