"""Identity of articles: canonical URLs, content hashes and article ids.

One article is one row however it was reached. The canonical URL drops what does not change the
document: case of scheme and host, default ports, fragments, tracking parameters, and the variants
publishers serve the same story under (``www.``/``m.``/``amp.`` hosts, ``/amp`` paths, ``?amp=1``).
A page's own ``<link rel=canonical>`` wins when it names an http(s) page of its own (not a bare site
root, which some sites declare on every page). The content hash is taken over whitespace-normalised
text. An article version's id is derived from both, so re-ingesting the same page finds the same id
and adds nothing, while changed text at a known URL is a new version (a revision) of it.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
    "ocid", "cmpid", "ncid", "ito", "smid", "sr_share", "at_medium", "at_campaign",
    "amp", "amp_js_v", "usqp", "outputtype", "ref_src",
})
# Host prefixes under which publishers serve the same page to phones and AMP readers.
VARIANT_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
# Path forms of AMP pages: /amp/story, /story/amp, /story.amp, /story.amp.html
_AMP_PATH = re.compile(r"(^/amp(?=/))|(/amp/?$)|(\.amp(?=(\.html?)?$))", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def canonical_url(url: str) -> str:
    """``url`` without what never changes the document it names."""
    parts = urlsplit(url.strip(_C0_AND_SPACE))  # as URL parsers do; str.strip() would also eat U+0085 in a path
    if parts.scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    stripped = True
    while stripped:  # every variant prefix ("www.m.example.com"), so a canonical URL is its own canonical URL
        stripped = False
        for prefix in VARIANT_HOST_PREFIXES:
            if host.startswith(prefix) and host.count(".") >= 2:
                host, stripped = host[len(prefix):], True
    default_port = {"http": 80, "https": 443}[parts.scheme]
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS
    )
    path = _AMP_PATH.sub("", parts.path) or "/"
    return urlunsplit((parts.scheme, netloc, path, urlencode(query), ""))


def declared_canonical(page_url: str, declared: str | None) -> str:
    """The canonical URL of a page at ``page_url`` that declares ``declared`` as its canonical link.

    The declaration is trusted when it is an http(s) URL that is not a bare site root (unless the
    page is one too); otherwise the page's own URL, canonicalised, stands.
    """
    own = canonical_url(page_url)
    if not declared or not declared.startswith(("http://", "https://")):
        return own
    claimed = canonical_url(declared)
    if urlsplit(claimed).path == "/" and urlsplit(own).path != "/":
        return own
    return claimed


def normalize_text(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def article_id(canonical: str, text_hash: str) -> str:
    """Stable id of one version of one article."""
    return hashlib.sha256(f"{canonical}\n{text_hash}".encode()).hexdigest()[:32]
