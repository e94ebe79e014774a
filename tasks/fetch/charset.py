"""Decoding pages whose declared encoding may be wrong.

Servers and pages lie about their encoding: a ``charset=utf-8`` header on Windows-1252 bytes, a
Latin-1 header on UTF-8 bytes, ``charset=utf-16`` on Latin-1 bytes, no declaration at all. A charset
that decodes without error is no proof (UTF-16 reads any even number of bytes), so each reading must
also be plausible (:mod:`.plausibility`: its markup kept, no control characters, no odd letters).
:func:`decode_html` trusts, in order: a byte order mark; UTF-8 when the bytes are valid UTF-8 (random
non-ASCII bytes almost never are); the header's charset, then the page's ``<meta>`` charset, when the
bytes decode cleanly and plausibly with it; UTF-8 when most non-ASCII bytes are UTF-8 and a few stray
ones are not (text pasted from a Windows-1252 source: those bytes are read as Windows-1252, so the
UTF-8 majority is never garbled); the best guess among ``charset_normalizer``'s and Windows-1252
(plausible first, then the one a language model finds most surely in a language, then
``charset_normalizer``'s order with Windows-1252 first among ties); and finally UTF-8 with
replacement characters.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from math import inf

from charset_normalizer import from_bytes

from broadsheet.tasks.fetch.plausibility import markup_lost, oddity, plausible, reading, window

Judge = Callable[[str], float]
_MAX_GUESSES = 8
_NON_ASCII_WORDS = re.compile(r"\w*[^\x00-\x7f]\w*")

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


def _codec(encoding: str | None) -> str | None:
    """The codec a declared label means, or None when Python knows no such encoding."""
    if not encoding:
        return None
    encoding = _LABELS.get(encoding.lower(), encoding)
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def _strict(content: bytes, encoding: str | None) -> str | None:
    """``content`` read as ``encoding``, if it reads without error and plausibly (see :mod:`.plausibility`)."""
    codec = _codec(encoding)
    if codec is None:
        return None
    try:
        text = content.decode(codec)
    except UnicodeDecodeError:
        return None
    return text if plausible(content, codec) else None


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


def decode_html(content: bytes, declared: str | None = None, judge: Judge | None = None) -> str:
    """The text of a page, whatever its header (``declared``) or ``<meta>`` tag claim.

    ``judge`` scores how surely a text is in some language (0 to 1); it picks among plausible guesses.
    """
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
    guess = best_guess(content, judge)
    if guess is not None:
        return content.decode(guess, errors="replace")
    return content.decode("utf-8", errors="replace")


def best_guess(content: bytes, judge: Judge | None = None) -> str | None:
    """The likeliest of ``charset_normalizer``'s guesses and Windows-1252 (the web's default).

    Readings that are not plausible come last; then the one ``judge`` finds most surely in a language;
    then ``charset_normalizer``'s order, Windows-1252 first among guesses it ties with.
    """
    matches = list(from_bytes(content[:200_000]))[:_MAX_GUESSES]
    measures = {codec: (m.chaos, -m.coherence) for m in matches if (codec := _codec(m.encoding))}
    for m in matches:  # the same bytes read the same in each encoding it could be from
        if "cp1252" in m.could_be_from_charset:
            measures.setdefault("cp1252", (m.chaos, -m.coherence))
    candidates = [codec for codec in [*measures, "cp1252"] if _decodes(content, codec)]

    def rank(codec: str) -> tuple:
        text = reading(content, codec)
        found = oddity(text)
        # the judge reads only the words that differ between readings: the shared ASCII ones would drown them
        sureness = judge(" ".join(_NON_ASCII_WORDS.findall(text))) if judge else 0.0
        return (markup_lost(text, content) or found.garbled, -round(sureness, 2), measures.get(codec, (inf, inf)),
                codec != "cp1252", -sureness, found.share)

    return min(dict.fromkeys(candidates), key=rank, default=None)


def _decodes(content: bytes, codec: str) -> bool:
    try:
        window(content).decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start >= len(window(content)) - 4  # only a character cut at the window's end
    return True
