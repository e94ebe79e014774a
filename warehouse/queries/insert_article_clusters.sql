-- Newly clustered articles. Bound parameters: article_id, cluster_id, match_kind, similarity,
-- matched_article_id, minhash (DuckDB list text, cast here), clustered_at.
insert into article_clusters values (?, ?, ?, ?, ?, ?::integer[], ?)
