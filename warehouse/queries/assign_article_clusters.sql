-- The clusters a load assigns, in the temp table load_assigned (inserted into article_clusters, and read by
-- the article facts). Bound parameters: the time they were clustered, then the assignments as a JSON list of
-- objects (article_id, cluster_id, match_kind, similarity, matched_article_id, minhash).
create or replace temp table load_assigned as
select
    assigned.article_id, assigned.cluster_id, assigned.match_kind, assigned.similarity,
    assigned.matched_article_id, assigned.minhash, $1::timestamptz as clustered_at
from (
    select unnest($2::json::struct(
        article_id varchar, cluster_id varchar, match_kind varchar, similarity double,
        matched_article_id varchar, minhash integer[]
    )[], recursive := true)
) as assigned
