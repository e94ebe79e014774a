"""Identity of articles: canonical URLs, content hashes and article ids.

One article is one row however it was reached. The canonical URL is built in two layers. First RFC 3986
normalisation, done by w3lib's ``canonicalize_url``: case of scheme and host, IDN hosts as punycode,
dot segments removed, percent-encoding normalised, query sorted, fragment dropped. Then the news rules
on top: default ports, tracking and session parameters (``utm_*``, ``fbclid``, ``PHPSESSID``,
``;jsessionid=``), and the variants publishers serve the same story under (``www.``/``m.``/``amp.``
hosts, but never down to a public suffix: ``www.co.uk`` stays; ``/amp`` paths, ``?amp=1``). A page's
own ``<link rel=canonical>`` wins when it names an http(s) page of its own (not a bare site root,
which some sites declare on every page). The content hash is taken over whitespace-normalised text.
An article version's id is derived from both, so re-ingesting the same page finds the same id and
adds nothing, while changed text at a known URL is a new version (a revision) of it.

``IDENTITY_VERSION`` names these rules: articles keyed by older rules are re-keyed by ``broadsheet
reextract`` (see :mod:`broadsheet.flows.reextract`).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from tld import get_tld
from w3lib.url import canonicalize_url

# Bumped whenever canonical_url or article_id change what they return for a stored URL.
IDENTITY_VERSION = 2
TRACKING_PARAMETERS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
    "ocid", "cmpid", "ncid", "ito", "smid", "sr_share", "at_medium", "at_campaign",
    "amp", "amp_js_v", "usqp", "outputtype", "ref_src",
})
# Parameters that carry a visitor's session, never the document (matched without case).
SESSION_PARAMETERS = frozenset({
    "phpsessid", "jsessionid", "sid", "sessionid", "session_id", "sessid", "aspsessionid", "cfid", "cftoken",
    "oscsid", "zenid",
})
# Host prefixes under which publishers serve the same page to phones and AMP readers.
VARIANT_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
# Path forms of AMP pages: /amp/story, /story/amp, /story.amp, /story.amp.html
_AMP_PATH = re.compile(r"(^/amp(?=/))|(/amp/?$)|(\.amp(?=(\.html?)?$))", re.IGNORECASE)
# A session id as a path parameter: /story;jsessionid=0A1B (Java servlets), ;phpsessid=...
_SESSION_PATH_PARAMETER = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/;?]*", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def canonical_url(url: str) -> str:
    """``url`` without what never changes the document it names."""
    url = url.strip(_C0_AND_SPACE)  # as URL parsers do; str.strip() would also eat U+0085 in a path
    try:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return url
        parts = urlsplit(canonicalize_url(url))
        port = parts.port
    except ValueError:  # "http://[", a port out of range, a host IDNA refuses: the URL stays as it came
        return url
    host = _without_variant_prefixes((parts.hostname or "").rstrip("."))
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = host if port in (None, {"http": 80, "https": 443}[parts.scheme]) else f"{host}:{port}"
    path = _AMP_PATH.sub("", _SESSION_PATH_PARAMETER.sub("", parts.path)) or "/"
    return urlunsplit((parts.scheme, netloc, path, _kept_query(parts.query), ""))


def _kept_query(query: str) -> str:
    """The (already normalised and sorted) query without tracking and session parameters."""
    return "&".join(pair for pair in query.split("&") if pair and not _dropped(unquote_plus(pair.split("=")[0])))


def _dropped(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING_PARAMETERS or key in SESSION_PARAMETERS


def _without_variant_prefixes(host: str) -> str:
    """``host`` without every variant prefix ("www.m.example.com"), as long as what is left is not a
    public suffix (``www.co.uk``, ``m.blogspot.com`` stay as they are)."""
    stripped = True
    while stripped:
        stripped = False
        for prefix in VARIANT_HOST_PREFIXES:
            rest = host[len(prefix):]
            if host.startswith(prefix) and not is_public_suffix(rest):
                host, stripped = rest, True
    return host


@lru_cache(maxsize=8192)  # a run sees few hosts, many times each
def is_public_suffix(host: str) -> bool:
    """Whether ``host`` is a public suffix (``co.uk``, ``github.io``), by the list bundled with ``tld``
    (never fetched); a single label the list does not know is one too, as the list's default rule says."""
    if "." not in host:
        return True
    found = get_tld(f"http://x.{host}", as_object=True, fail_silently=True, fix_protocol=False)
    return found is not None and getattr(found, "tld", None) == host


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
