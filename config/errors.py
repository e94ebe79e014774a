"""The one exception hierarchy of broadsheet.

    BroadsheetError
    ├── ConfigError        bad settings or source declarations          (permanent)
    ├── FetchError         a request failed or returned something unusable
    ├── ExtractError       a page held no article text we could use      (permanent)
    ├── EnrichError        a model failed on an article                  (permanent)
    ├── WarehouseError     the warehouse could not be opened or written
    └── QueryError         a statement the warehouse refused to run      (permanent)

Every error carries ``transient``: True means the same call may succeed later (a timeout,
a 503, a locked warehouse) and is worth a retry; False means retrying changes nothing.
A document that fails becomes a rejection row whose ``error_type`` is ``code``, a short
stable name analysts can group by (``http_status``, ``not_html``, ``no_text`` ...).
"""

from __future__ import annotations


class BroadsheetError(Exception):
    """Base of every error broadsheet raises on purpose."""

    code = "error"
    transient = False

    def __init__(self, message: str, *, code: str | None = None, transient: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if transient is not None:
            self.transient = transient


class ConfigError(BroadsheetError):
    code = "config"


class FetchError(BroadsheetError):
    code = "fetch"


class ExtractError(BroadsheetError):
    code = "extract"


class EnrichError(BroadsheetError):
    code = "enrich"


class WarehouseError(BroadsheetError):
    code = "warehouse"


class QueryError(BroadsheetError):
    """A bad statement (syntax, unknown table, a write on a read-only connection): the user's to fix."""

    code = "query"
