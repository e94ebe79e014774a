-- The titles of originals the load knew by id but not by title (see story_clusters_names.sql), from articles.
update story_names
set title = articles.title, title_known = true
from articles
where articles.article_id = story_names.article_id
    and not story_names.title_known
    and articles.article_id in (select unknown.article_id from story_names as unknown where not unknown.title_known)
