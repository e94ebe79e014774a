-- Each source's last fetch and health (source_health), by source name.
select
    source_health.source_id,
    source_health.last_fetched_at,
    source_health.pages,
    source_health.articles,
    source_health.fetch_success_rate,
    source_health.extraction_success_rate
from source_health
