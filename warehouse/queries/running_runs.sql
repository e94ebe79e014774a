-- The runs recorded as running, with the process that records them (to tell which are still going).
select run_id, host, pid, process_started
from runs
where status = 'running'
