"""Typed settings, source declarations, the topic taxonomy and the error hierarchy.

This package is the base every other part of broadsheet imports: it reads the TOML files and
the ``BROADSHEET_*`` environment once, and hands plain typed objects to the stages.
"""

from broadsheet.config.errors import (
    BroadsheetError,
    ConfigError,
    EnrichError,
    ExtractError,
    FetchError,
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
    "Settings",
    "SourceConfig",
    "Taxonomy",
    "Topic",
    "WarehouseError",
    "load_settings",
    "load_sources",
    "load_taxonomy",
]
