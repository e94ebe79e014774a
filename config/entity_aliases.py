"""Alias corrections: how an analyst undoes a wrong merge (or makes a missing one) for good.

The warehouse keeps the evidence of every merge (``entity_alias_evidence``: each surface form of an
entity, how often, in how many articles). When it shows a wrong one, say "Georgia" counted as the
country in stories about the US state, add an entry to a TOML file named by ``entities.aliases_file``::

    [[aliases]]
    alias = "Georgia"              # a surface form, matched without case, accents or abbreviation dots
    name = "Georgia (U.S. state)"  # the entity it stands for
    entity_type = "place"          # person | organization | place
    country_code = "US"            # optional, for places; so are latitude and longitude

and run ``broadsheet reenrich``: the file's version is part of the entity enricher's, so every
article enriched without the correction is redone, and the alias's mentions move to that entity.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from broadsheet.config.tomlfile import read_entries


class AliasCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alias: str = Field(min_length=1, max_length=200, description="Surface form to correct.")
    name: str = Field(min_length=1, max_length=200, description="Canonical name of the entity it stands for.")
    entity_type: Literal["person", "organization", "place"] = Field(description="Type of that entity.")
    country_code: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, places only.")
    latitude: float | None = Field(None, ge=-90, le=90, description="Latitude, places only.")
    longitude: float | None = Field(None, ge=-180, le=180, description="Longitude, places only.")


@dataclass(frozen=True)
class AliasCorrections:
    corrections: tuple[AliasCorrection, ...]
    version: str  # "" when there are none, so the enricher's name does not change


NO_CORRECTIONS = AliasCorrections((), "")


def load_alias_corrections(path: Path | None) -> AliasCorrections:
    """The corrections in ``path`` (none when ``path`` is None)."""
    if path is None:
        return NO_CORRECTIONS
    corrections = read_entries(path, "aliases", AliasCorrection, "entities.aliases_file", "[[aliases]] entry")
    if not corrections:
        return NO_CORRECTIONS
    canonical = json.dumps([c.model_dump() for c in corrections], sort_keys=True)
    return AliasCorrections(corrections, hashlib.sha256(canonical.encode()).hexdigest()[:8])
