"""The topic taxonomy articles are scored against, read from ``topics.toml``.

Each ``[[topics]]`` entry has an ``id``, a ``label``, a ``description`` and optionally
``keywords`` and ``examples`` (short texts typical of the topic). Editing any of them changes
the taxonomy's ``version``, which enrichment rows record so stale scores can be found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from broadsheet.config.errors import ConfigError
from broadsheet.config.tomlfile import read_entries


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_\-]+$", description="Stable topic key.")
    label: str = Field(min_length=1, description="Human-readable name.")
    description: str = Field(min_length=1, description="What articles on this topic are about.")
    iptc_code: str | None = Field(None, description="IPTC Media Topic code, when the topic is one.")
    keywords: tuple[str, ...] = Field((), description="Words typical of the topic.")
    examples: tuple[str, ...] = Field((), description="Short example texts on the topic.")


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    version: str

    def prototypes(self) -> list[list[str]]:
        """The texts that stand for each topic, in topic order."""
        return [
            [f"{t.label}: {t.description}", *t.examples]
            + ([f"{t.label}: {', '.join(t.keywords)}"] if t.keywords else [])
            for t in self.topics
        ]


def load_taxonomy(path: Path) -> Taxonomy:
    topics = read_entries(path, "topics", Topic, "taxonomy", "topic")
    if not topics:
        raise ConfigError(f"taxonomy {path} has no [[topics]]; add at least one")
    ids = [t.id for t in topics]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"topic ids must be unique in {path}")
    canonical = json.dumps([t.model_dump() for t in topics], sort_keys=True)
    return Taxonomy(topics=topics, version=hashlib.sha256(canonical.encode()).hexdigest()[:12])
