"""Identity of articles: canonical URLs, content hashes and article ids.

One article is one row however it was reached: the canonical URL drops what does not change
the document (case of scheme and host, default ports, fragments, tracking parameters) and the
content hash is taken over whitespace-normalised text. An article version's id is derived from
both, so re-ingesting the same page finds the same id and adds nothing.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
    "ocid", "cmpid", "ncid", "ito", "smid", "sr_share", "at_medium", "at_campaign",
})
_WHITESPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """``url`` without what never changes the document it names."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS
    )
    return urlunsplit((parts.scheme, netloc, parts.path or "/", urlencode(query), ""))


def normalize_text(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def article_id(canonical: str, text_hash: str) -> str:
    """Stable id of one version of one article."""
    return hashlib.sha256(f"{canonical}\n{text_hash}".encode()).hexdigest()[:32]
