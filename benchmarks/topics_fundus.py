"""Topics against publishers' own tags: fundus-news articles in English, top topic vs the tags' topics.

    python benchmarks/topics_fundus.py [--fundus DIR] [--show 10]

fundus's ``expected.jsonl`` gives, for many pages, the topic tags the publisher attached (free-form:
"Politics", "Murder trial", "Music News", but also names and places). Each tag is mapped to IPTC topics by
the words in it (``TAG_WORDS``, written here; a tag with none of them says nothing). An article counts
when its tags name at least one topic, and agrees when the pipeline's top topic (``tasks.topics`` over its
title and body) is among them. Only English-language publishers are read (``topics`` are scored for
English only by default). Prints the agreement and the disagreements, for a human to judge.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from broadsheet.config.records import Article
from broadsheet.config.settings import apply_process_environment, load_settings
from broadsheet.tasks.enrich import topics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import EVAL, require_folder

ENGLISH = {"us", "uk", "ca", "au", "my", "ind", "za"}
NOT_ENGLISH = {"EyethuNews", "Isolezwe", "IsolezweLesiXhosa", "Bhaskar"}
TAG_WORDS = {
    "arts-culture-entertainment-media": ("music", "film", "movie", "books", "author", "literature", "theatre",
                                         "celebrity", "entertainment", "culture", "media & telecom", "tv"),
    "conflict-war-peace": ("war", "nato", "defence", "defense", "military", "missile", "hamas", "terror",
                           "national security", "occupation", "assassination"),
    "crime-law-justice": ("crime", "court", "murder", "police", "justice", "trial", "icj", "international law",
                          "kidnapping", "investigation"),
    "disaster-accident-emergency": ("disaster", "accident", "fire", "emergency", "crash"),
    "economy-business-finance": ("economy", "business", "finance", "money", "gdp", "recession", "bitcoin",
                                 "oil industry", "federal reserve", "jobs", "budget", "trade", "bank"),
    "environment": ("climate", "environment", "global warming", "arctic"),
    "health": ("health", "healthcare", "covid", "covid-19", "weight loss", "medicine", "medical"),
    "labour": ("union", "strike", "labour market", "public service", "return to office", "careers"),
    "lifestyle-leisure": ("life hacks", "kitchen", "cleaning", "wine", "style", "travel", "holidays", "home",
                          "interiors", "shopping", "outdoors", "camping", "food"),
    "politics": ("politics", "political", "election", "congress", "parliament", "government", "policy", "house of",
                 "houseofreps", "democratic", "legislature"),
    "religion": ("religion", "religious", "church"),
    "science-technology": ("science", "software", "computing", "ai", "technology", "rocket", "space", "google"),
    "society": ("protest", "riot", "homeless", "child care", "humanitarian"),
    "sport": ("sport", "football", "us open", "tennis", "cricket", "rugby", "transfer news"),
    "weather": ("weather", "storm", "heat"),
}


def tag_topics(tags: list[str]) -> set[str]:
    """The topics one of whose words (or its plural) is a word of a tag ("war" in "Israel-Hamas war", not "aid")."""
    found = set()
    for tag in tags:
        found |= {topic for topic, keys in TAG_WORDS.items()
                  if any(re.search(rf"\b{re.escape(key)}s?\b", tag.lower()) for key in keys)}
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fundus", type=Path, default=EVAL / "fundus-news")
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args(argv)
    apply_process_environment(quiet=True)
    settings = load_settings().topics
    taxonomy = topics.taxonomy_for(settings)
    lines = (require_folder(args.fundus, "fundus-news") / "expected.jsonl").read_text(encoding="utf-8")
    items = [json.loads(line) for line in lines.splitlines()]
    items = [i for i in items if i.get("topics") and i["country"] in ENGLISH and i["publisher"] not in NOT_ENGLISH]
    judged = [(i, tag_topics(i["topics"])) for i in items]
    judged = [(i, wanted) for i, wanted in judged if wanted]
    now = datetime.now(UTC)
    articles = [Article(str(n), i["url"], i["url"], i["publisher"], i["title"], (), None, "en", None,
                        i.get("body_text") or "", "", now, "eval") for n, (i, _) in enumerate(judged)]
    results = topics.score_topics(articles, settings, taxonomy)
    agree = [r.topics[0].topic_id in wanted for r, (_, wanted) in zip(results, judged, strict=True)]
    vectors = topics.embed([topics.article_lead(a, settings.max_chars) for a in articles], settings)
    before = topics.prototype_similarities(vectors, topics.prototypes(settings, taxonomy)).argmax(axis=1)
    agreed_before = sum(taxonomy.topics[int(i)].id in wanted for i, (_, wanted) in zip(before, judged, strict=True))
    print(f"English articles with tags: {len(items)}; tags naming a topic: {len(judged)}; "
          f"top topic among them: {sum(agree)} ({sum(agree) / len(judged):.1%}); with the former prototypes: "
          f"{agreed_before} ({agreed_before / len(judged):.1%})")
    shown = 0
    for result, (item, wanted), ok in zip(results, judged, agree, strict=True):
        if not ok and shown < args.show:
            shown += 1
            ranked = ", ".join(f"{t.topic_id} {t.score:.2f}" for t in result.topics)
            subs = ", ".join(f"{s.label} {s.score:.2f}" for s in result.subtopics[:3])
            print(f"- {item['publisher']}: {item['title'][:90]!r}\n  tags {item['topics'][:6]} -> "
                  f"{sorted(wanted)}\n  pipeline: {ranked}; subtopics: {subs}")


if __name__ == "__main__":
    main()
