-- `broadsheet stats`: rejections by stage and reason, with an example URL and its message.
select stage, error_type, rejections, example_url, example_message
from rejection_reasons
