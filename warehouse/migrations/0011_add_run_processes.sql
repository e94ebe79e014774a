-- The process that runs each run (issue 26). A run killed, or one that failed before it could record
-- its end, stayed `running` for ever; the next run to start now marks `abandoned` each `running` run
-- whose process is gone: one on this host whose pid no longer names the process that started it, and
-- one recorded before this migration (no host). status is one of running | completed | failed |
-- interrupted (SIGINT or SIGTERM stopped it, its end recorded) | abandoned.

alter table runs add column host varchar;             -- the machine's host name
alter table runs add column pid integer;
alter table runs add column process_started varchar;  -- the boot's id and the start time of pid: one process
