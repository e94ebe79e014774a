-- `broadsheet stats`: the five latest runs.
select run_id, status, discovered, loaded, rejected, started_at
from runs
order by started_at desc
limit 5
