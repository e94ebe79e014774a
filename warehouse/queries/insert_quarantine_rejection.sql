-- A staged batch the warehouse refused was moved aside: one rejection row says where and why.
-- Bound parameters: run_id, the quarantine folder, message, rejected_at.
insert into rejections (run_id, stage, url, source_id, error_type, message, transient, rejected_at)
values (?, 'load', ?, 'staging', 'corrupt_stage', ?, false, ?)
