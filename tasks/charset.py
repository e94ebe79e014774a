"""Decoding pages whose declared encoding may be wrong.

Servers and pages lie about their encoding: a ``charset=utf-8`` header on Windows-1252 bytes, a
Latin-1 header on UTF-8 bytes, no declaration at all. :func:`decode_html` trusts, in order: a byte
order mark; UTF-8 when the bytes are valid UTF-8 (random non-ASCII bytes almost never are); the
header's charset, then the page's ``<meta>`` charset, when the bytes decode cleanly with it; the
best guess of ``charset_normalizer``; and finally UTF-8 with replacement characters.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
# What browsers actually mean by these labels (WHATWG Encoding Standard).
_LABELS = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
           "ascii": "cp1252", "iso-8859-9": "cp1254", "tis-620": "cp874", "iso-8859-11": "cp874"}


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1).lower() if match else None


def meta_charset(content: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag within its first 4 KiB."""
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii", errors="replace").lower() if match else None


def _strict(content: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    encoding = _LABELS.get(encoding.lower(), encoding)
    try:
        return content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(content: bytes, declared: str | None = None) -> str:
    """The text of a page, whatever its header (``declared``) or ``<meta>`` tag claim."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    for candidate in ("utf-8", declared, meta_charset(content)):
        text = _strict(content, candidate)
        if text is not None:
            return text
    best = from_bytes(content[:200_000]).best()
    if best is not None and best.encoding:
        return content.decode(best.encoding, errors="replace")
    return content.decode("utf-8", errors="replace")
