-- The keyphrases of one article, best first.
select keyphrases.phrase, keyphrases.score
from keyphrases
where keyphrases.article_id = $article_id
order by keyphrases.rank
