"""Discover: turn a source (feed, sitemap, WARC file, page, URL list, folder) into candidate documents.

:mod:`.sources` picks the reader by the source's kind; :mod:`.feeds` and :mod:`.sitemaps` parse what they
name, through the hardened XML of :mod:`.safexml`. Remote feeds and sitemaps are fetched by
:mod:`broadsheet.tasks.fetch`. :mod:`.window` keeps the candidates within ``discover.since`` and ``discover.limit``.
"""

from broadsheet.tasks.discover.sources import DiscoverContext, discover_folder, discover_source
from broadsheet.tasks.discover.window import Window, candidate_date, select_candidates

__all__ = ["DiscoverContext", "Window", "candidate_date", "discover_folder", "discover_source", "select_candidates"]
