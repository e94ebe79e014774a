-- `broadsheet stats`: the topics with the most articles. Bound parameter: how many.
select label, articles, round(mean_score, 3) as mean_score
from topic_article_counts
limit ?
