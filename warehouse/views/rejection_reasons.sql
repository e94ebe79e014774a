-- Rejected documents grouped by stage and reason, with an example URL, its message (the HTTP status,
-- the setting to change...) and when it last happened.
create or replace view rejection_reasons as
select
    rejections.stage,
    rejections.error_type,
    count(*) as rejections,
    count(distinct rejections.url) as urls,
    min(rejections.url) as example_url,
    arg_min(rejections.message, rejections.url) as example_message,
    max(rejections.rejected_at) as last_rejected_at
from rejections
group by rejections.stage, rejections.error_type
order by rejections desc
