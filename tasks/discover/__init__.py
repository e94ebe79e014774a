"""Discover: turn a source (feed, sitemap, WARC file, page, URL list, folder) into candidate documents.

:mod:`.sources` picks the reader by the source's kind; :mod:`.feeds` and :mod:`.sitemaps` parse what they
name, through the hardened XML of :mod:`.safexml`. Remote feeds and sitemaps are fetched by
:mod:`broadsheet.tasks.fetch`.
"""

from broadsheet.tasks.discover.sources import DiscoverContext, discover_folder, discover_source

__all__ = ["DiscoverContext", "discover_folder", "discover_source"]
