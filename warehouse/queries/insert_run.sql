-- A flow run begins. Bound parameters: run_id, flow_run_id, flow, parameters (JSON), status, started_at,
-- and the process running it: host, pid, process_started.
insert into runs (run_id, flow_run_id, flow, parameters, status, started_at, host, pid, process_started)
values (?, ?, ?, ?, ?, ?, ?, ?, ?)
