-- A flow run begins. Bound parameters: run_id, flow_run_id, flow, parameters (JSON), status, started_at.
insert into runs (run_id, flow_run_id, flow, parameters, status, started_at)
values (?, ?, ?, ?, ?, ?)
