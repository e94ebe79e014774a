"""Typed settings, source declarations, the topic taxonomy, the error hierarchy and the shared records.

This package is the base every other part of broadsheet imports, and imports none of them: it reads
the TOML files and the ``BROADSHEET_*`` environment once, and hands plain typed objects to the stages.
The records that flow between stages and layers (:mod:`.records`) and the one way to wait for a
transient failure (:mod:`.retry`) live here too, so that every layer can use them.
"""

from broadsheet.config.errors import (
    BroadsheetError,
    ConfigError,
    EnrichError,
    ExtractError,
    FetchError,
    QueryError,
    WarehouseError,
)
from broadsheet.config.settings import Settings, load_settings
from broadsheet.config.sources import SourceConfig, load_sources
from broadsheet.config.taxonomy import Taxonomy, Topic, load_taxonomy

__all__ = [
    "BroadsheetError",
    "ConfigError",
    "EnrichError",
    "ExtractError",
    "FetchError",
    "QueryError",
    "Settings",
    "SourceConfig",
    "Taxonomy",
    "Topic",
    "WarehouseError",
    "load_settings",
    "load_sources",
    "load_taxonomy",
]
