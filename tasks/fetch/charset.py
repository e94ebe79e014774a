"""Decoding pages whose declared encoding may be wrong.

Servers and pages lie about their encoding: a ``charset=utf-8`` header on Windows-1252 bytes, a
Latin-1 header on UTF-8 bytes, no declaration at all. :func:`decode_html` trusts, in order: a byte
order mark; UTF-8 when the bytes are valid UTF-8 (random non-ASCII bytes almost never are); the
header's charset, then the page's ``<meta>`` charset, when the bytes decode cleanly with it; UTF-8
when most non-ASCII bytes are UTF-8 and a few stray ones are not (text pasted from a Windows-1252
source: those bytes are read as Windows-1252, so the UTF-8 majority is never garbled); the best
guess of ``charset_normalizer`` (Windows-1252 when it ties with others, as Portuguese in cp1250 does);
and finally UTF-8 with replacement characters.
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


def _stray_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    stray = error.object[error.start:error.end]
    return bytes(stray).decode("cp1252", errors="replace"), error.end


codecs.register_error("broadsheet-stray-cp1252", _stray_as_cp1252)


def mostly_utf8(content: bytes) -> str | None:
    """``content`` as UTF-8 with its stray non-UTF-8 bytes read as Windows-1252, when UTF-8 dominates."""
    valid = sum(1 for char in content.decode("utf-8", errors="ignore") if ord(char) > 127)
    stray = content.decode("utf-8", errors="replace").count("\ufffd") - content.decode(
        "utf-8", errors="ignore").count("\ufffd")
    if valid == 0 or stray > valid:
        return None
    return content.decode("utf-8", errors="broadsheet-stray-cp1252")


def decode_html(content: bytes, declared: str | None = None) -> str:
    """The text of a page, whatever its header (``declared``) or ``<meta>`` tag claim."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    for candidate in ("utf-8", declared, meta_charset(content)):
        text = _strict(content, candidate)
        if text is not None:
            return text
    mixed = mostly_utf8(content)
    if mixed is not None:
        return mixed
    guess = best_guess(content)
    if guess is not None:
        return content.decode(guess, errors="replace")
    return content.decode("utf-8", errors="replace")


def best_guess(content: bytes) -> str | None:
    """``charset_normalizer``'s guess; Windows-1252 (the web's default) among guesses that tie for best."""
    matches = from_bytes(content[:200_000])
    best = matches.best()
    if best is None or not best.encoding:
        return None
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return "cp1252" if any("cp1252" in m.could_be_from_charset for m in tied) else best.encoding
