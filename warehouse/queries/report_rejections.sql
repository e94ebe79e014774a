-- `broadsheet stats`: rejections by stage and reason, with an example URL.
select stage, error_type, rejections, example_url
from rejection_reasons
