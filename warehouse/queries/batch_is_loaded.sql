-- Whether a staged batch was loaded already (a retried load adds nothing). Bound parameter: the batch id.
select 1
from loaded_batches
where batch_id = ?
