-- A staged batch is loaded. Bound parameters: batch_id, run_id, the articles it added, loaded_at.
insert into loaded_batches values (?, ?, ?, ?)
