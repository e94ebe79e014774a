"""The labelled texts the topic head is trained on, read in place from ``../shared/eval/train`` and mapped to IPTC.

Every reader returns ``Example``s: a title, a text and the IPTC top-level codes (8 digits) the example is
about, with the set it came from. Nothing here is copied into the repository; only the mappings are ours.
HuffPost, Reuters-21578, MasakhaNEWS English and Inshorts are labelled news; the IPTC vocabulary's names and
definitions and the taxonomy's own examples are weak labels for topics no labelled set covers (disaster,
weather, conflict, labour). BBC News is the development set and is read only by ``bbc``; AG News,
CoNLL eng.testb, CrossNER politics test and Zyte are held out and never read.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from dataclasses import dataclass
from html import unescape
from pathlib import Path

ARTS, CONFLICT, CRIME, DISASTER, ECONOMY = "01000000", "16000000", "02000000", "03000000", "04000000"
EDUCATION, ENVIRONMENT, HEALTH, HUMAN, LABOUR = "05000000", "06000000", "07000000", "08000000", "09000000"
LIFESTYLE, POLITICS, RELIGION, SCIENCE, SOCIETY = "10000000", "11000000", "12000000", "13000000", "14000000"
SPORT, WEATHER = "15000000", "17000000"
TOP_LEVEL = (ARTS, CRIME, DISASTER, ECONOMY, EDUCATION, ENVIRONMENT, HEALTH, HUMAN, LABOUR, LIFESTYLE,
             POLITICS, RELIGION, SCIENCE, SOCIETY, SPORT, CONFLICT, WEATHER)

# HuffPost category -> IPTC. U.S. NEWS and WORLD NEWS mix every topic and are left out. Changed from the
# README's rough mapping: COMEDY is mostly late-night TV (arts), WEDDINGS lifestyle, LATINO VOICES society,
# PARENTING society (IPTC files family life under society), MEDIA arts (the news-media industry).
HUFFPOST = {
    "POLITICS": POLITICS, "CRIME": CRIME, "BUSINESS": ECONOMY, "MONEY": ECONOMY, "ENVIRONMENT": ENVIRONMENT,
    "GREEN": ENVIRONMENT, "SCIENCE": SCIENCE, "TECH": SCIENCE, "SPORTS": SPORT, "RELIGION": RELIGION,
    "WELLNESS": HEALTH, "HEALTHY LIVING": HEALTH, "EDUCATION": EDUCATION, "COLLEGE": EDUCATION,
    "ENTERTAINMENT": ARTS, "CULTURE & ARTS": ARTS, "ARTS": ARTS, "ARTS & CULTURE": ARTS, "MEDIA": ARTS,
    "COMEDY": ARTS, "TRAVEL": LIFESTYLE, "FOOD & DRINK": LIFESTYLE, "TASTE": LIFESTYLE,
    "STYLE & BEAUTY": LIFESTYLE, "STYLE": LIFESTYLE, "HOME & LIVING": LIFESTYLE, "WEDDINGS": LIFESTYLE,
    "WEIRD NEWS": HUMAN, "BLACK VOICES": SOCIETY, "QUEER VOICES": SOCIETY, "LATINO VOICES": SOCIETY,
    "WOMEN": SOCIETY, "PARENTING": SOCIETY, "PARENTS": SOCIETY, "IMPACT": SOCIETY, "DIVORCE": SOCIETY,
}
MIXED = ("U.S. NEWS", "WORLD NEWS")
MASAKHANEWS = {"business": ECONOMY, "politics": POLITICS, "sports": SPORT, "health": HEALTH,
               "entertainment": ARTS, "technology": SCIENCE}
# Inshorts app sections; "hatke" (offbeat) is human interest; national and world mix every topic.
INSHORTS = {"sports": SPORT, "politics": POLITICS, "technology": SCIENCE, "entertainment": ARTS, "hatke": HUMAN}
# Reuters-21578 is economic news throughout; "jobs" (employment figures, strikes, pay) is labour too.
REUTERS_LABOUR = {"jobs"}


@dataclass(frozen=True)
class Example:
    title: str
    text: str
    topics: tuple[str, ...]
    source: str


def huffpost(root: Path) -> list[Example]:
    examples = []
    with (root / "topics/huffpost-news-category-v3-first10k.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if item["category"] in HUFFPOST:
                examples.append(Example(item["headline"], item["short_description"],
                                        (HUFFPOST[item["category"]],), f"huffpost:{item['category']}"))
    return examples


def huffpost_mixed(root: Path) -> list[Example]:
    """The U.S. NEWS and WORLD NEWS items, unlabelled: every topic is in them (weak labels come later)."""
    examples = []
    with (root / "topics/huffpost-news-category-v3-first10k.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if item["category"] in MIXED:
                examples.append(Example(item["headline"], item["short_description"], (),
                                        f"huffpost-mixed:{item['category']}"))
    return examples


def masakhanews(root: Path) -> list[Example]:
    csv.field_size_limit(1 << 30)
    examples = []
    for split in ("train-50shot", "dev", "test"):
        with (root / f"topics/masakhanews-eng/{split}.tsv").open(encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream, delimiter="\t"):
                examples.append(Example(row["headline"], row["text"], (MASAKHANEWS[row["category"]],),
                                        f"masakhanews:{row['category']}"))
    return examples


def inshorts(root: Path) -> list[Example]:
    """Headlines shown in exactly one mapped section and no unmapped one."""
    examples = []
    with (root / "topics/inshorts-headlines.csv").open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            sections = [name for name, flag in row.items() if name != "news" and flag == "1"]
            if len(sections) == 1 and sections[0] in INSHORTS:
                examples.append(Example(row["news"], "", (INSHORTS[sections[0]],), f"inshorts:{sections[0]}"))
    return examples


_REUTERS = re.compile(r"<REUTERS(.*?)</REUTERS>", re.S)


def _tag(block: str, name: str) -> str:
    match = re.search(rf"<{name}>(.*?)</{name}>", block, re.S)
    return unescape(match.group(1)).replace("\x03", "").strip() if match else ""


def reuters(root: Path, others_every: int) -> list[Example]:
    """Every labour ("jobs") story and every ``others_every``-th other story with a topic and a body."""
    examples, seen = [], 0
    for path in sorted((root / "topics/reuters21578").glob("reut2-*.sgm")):
        for block in _REUTERS.findall(path.read_text(encoding="latin-1")):
            labels = re.findall(r"<D>(.*?)</D>", _tag(block, "TOPICS"))
            body, title = _tag(block, "BODY"), _tag(block, "TITLE")
            if not labels or len(body) < 200:
                continue
            if REUTERS_LABOUR & set(labels):
                examples.append(Example(title.title(), body, (ECONOMY, LABOUR), "reuters:jobs"))
                continue
            seen += 1
            if seen % others_every == 0:
                examples.append(Example(title.title(), body, (ECONOMY,), "reuters:other"))
    return examples


def iptc_vocabulary(root: Path) -> list[dict[str, str | int]]:
    """The IPTC Media Topics in force (not retired): code, name, definition, level, level-1 and level-2 codes."""
    raw = json.loads((root / "iptc/iptc-media-topics.json").read_text(encoding="utf-8"))
    topics = []
    for qcode, item in raw.items():
        if isinstance(item.get("RetiredDate"), str):
            continue
        levels = [item.get(f"Level{i}/NewsCode") for i in range(1, 7)]
        levels = [code.split(":")[1] for code in levels if isinstance(code, str)]
        topics.append({"code": qcode.split(":")[1], "name": str(item["Name (en-GB)"]).strip(),
                       "definition": str(item.get("Definition (en-GB)") or "").strip(), "level": len(levels),
                       "top": levels[0], "level2": levels[1] if len(levels) > 1 else ""})
    return topics


def iptc_weak_labels(root: Path) -> list[Example]:
    """Every subtopic's name (as a title) and definition, labelled with its top-level topic."""
    return [Example(str(t["name"]), str(t["definition"]), (str(t["top"]),), "iptc")
            for t in iptc_vocabulary(root) if int(t["level"]) > 1]


def taxonomy_examples(taxonomy_file: Path) -> list[Example]:
    """The example sentences of the default taxonomy (our own writing), labelled with their topic."""
    entries = tomllib.loads(taxonomy_file.read_text(encoding="utf-8"))["topics"]
    return [Example("", text, (entry["iptc_code"],), "taxonomy")
            for entry in entries if entry.get("iptc_code") for text in entry.get("examples", ())]


BBC_CLASSES = ("business", "entertainment", "politics", "sport", "tech")


def bbc(folder: Path) -> tuple[list[Example], list[str]]:
    """The BBC News development set: (title, text) and its class; for scoring only, never for training."""
    examples, labels = [], []
    for label in BBC_CLASSES:
        for path in sorted((folder / label).glob("*.txt")):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            title, _, body = text.strip().partition("\n")
            examples.append(Example(title.strip(), body.strip(), (), "bbc"))
            labels.append(label)
    return examples, labels
