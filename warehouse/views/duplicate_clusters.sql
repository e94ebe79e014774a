-- Story clusters: exact copies, near duplicates (syndicated wire copies, lightly edited reposts) and
-- revisions of one story, across runs and sources. The original is the earliest published member
-- (first seen, when undated); copies counts latest article versions in the cluster, exact_copies and
-- near_copies those whose URL joined it as a copy (a later revision of a copy still counts). Read from
-- story_clusters, which each load keeps (migration 0012).
create or replace view duplicate_clusters as
select
    story_clusters.cluster_id,
    story_clusters.original_article_id,
    story_clusters.original_title,
    story_clusters.original_source_id,
    story_clusters.first_appeared_at,
    story_clusters.last_appeared_at,
    story_clusters.copies,
    story_clusters.sources,
    story_clusters.exact_copies,
    story_clusters.near_copies
from story_clusters
order by story_clusters.copies desc, story_clusters.first_appeared_at
