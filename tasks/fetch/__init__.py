"""Fetch: get the bytes of candidate documents, politely, from the web, local files or WARC records.

:mod:`.fetcher` runs the requests; each rule is its own module: :mod:`.guard` (which addresses may be
asked), :mod:`.robots` (robots.txt), :mod:`.politeness` (per-host turns, retries, backoff), :mod:`.charset`
(decoding, each reading checked by :mod:`.plausibility`), :mod:`.documents` (local files and content
types), :mod:`.warc` (WARC/ARC records) and :mod:`.warc_integrity` (whether a record is what its header says).
"""

from broadsheet.tasks.fetch.charset import decode_html
from broadsheet.tasks.fetch.documents import (
    file_url,
    gunzip_capped,
    is_feed,
    is_html,
    local_path,
    read_local,
    read_regular_file,
    require_html,
)
from broadsheet.tasks.fetch.fetcher import FetchOutcome, FetchState, fetch_pages
from broadsheet.tasks.fetch.guard import is_url
from broadsheet.tasks.fetch.plausibility import unreadable_share
from broadsheet.tasks.fetch.robots import robots_url, sitemap_lines
from broadsheet.tasks.fetch.warc import discover_archive, is_archive

__all__ = ["FetchOutcome", "FetchState", "decode_html", "discover_archive", "fetch_pages", "file_url", "gunzip_capped",
           "is_archive", "is_feed", "is_html", "is_url", "local_path", "read_local", "read_regular_file",
           "require_html", "robots_url", "sitemap_lines", "unreadable_share"]
