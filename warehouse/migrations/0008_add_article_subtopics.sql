-- Subtopics of issue 21: under each top-level topic an article is tagged with, its best IPTC Media Topics
-- subtopics ("wildfire", "election", "interest rate"), with a score.
--
-- iptc_code is the subtopic's own code, at any depth below the top level (level 2 to 6); level2_code and
-- level2_label name its level-2 ancestor (the subtopic itself when it is at level 2), so trends can be
-- read at either grain. The score is the cosine similarity of the article's lead vector to the
-- subtopic's name and definition (zero-shot: no labelled data exists for subtopics). Rows name the topic
-- enricher, so a re-enrichment replaces exactly the stale ones, as for article_topics. No primary key:
-- loads skip rows already present with an anti-join (see migration 0005).

create table article_subtopics (
    article_id    varchar not null,
    topic_id      varchar not null,
    iptc_code     varchar not null,
    label         varchar not null,
    level         integer not null,
    level2_code   varchar not null,
    level2_label  varchar not null,
    score         double not null,
    rank          integer not null,          -- 1 = best subtopic of this article under this topic
    enricher      varchar not null
);
