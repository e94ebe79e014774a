"""Whether a decoding of a page reads like text: what gives away a charset that decodes without error, wrongly.

A wrong charset seldom fails: UTF-16 reads any even number of bytes, and a single-byte code page reads
nearly every byte. The text it makes gives it away:

- the markup is gone (an ASCII page read as UTF-16 or EBCDIC has no ``<p>`` left);
- control, unassigned or private-use characters, or U+FFFD (a NUL every other character: UTF-16 read
  as UTF-8);
- odd characters: a letter of one script beside a letter of another ("cafй": a Cyrillic letter in a
  Latin word), a capital right after a small letter ("cŰtť"), a symbol between two letters ("bud¿et");
- Latin letters that are mostly accented ("Ãîðîäñêîé": Cyrillic read as Windows-1252), as in no
  language written in Latin letters.

Han, kana and Hangul sit beside Latin letters in real words ("iPhoneを"), so they never make a word odd.
Each check reads a window of the page from a little before its first non-ASCII byte, where the readings
of different charsets begin to differ.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

WINDOW_BYTES = 8192
_ASCII_TAG = re.compile(rb"<[A-Za-z/!?]")
_TAG = re.compile(r"<[A-Za-z/!?]")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_ASCII_LETTERS = re.compile(r"[A-Za-z]")
# Scripts that never share a word; letters of others (Han, kana, Hangul) are neutral.
_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "HEBREW", "ARABIC", "SYRIAC", "THAANA",
                      "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU", "KANNADA",
                      "MALAYALAM", "SINHALA", "THAI", "LAO", "TIBETAN", "MYANMAR", "GEORGIAN", "ETHIOPIC",
                      "KHMER", "MONGOLIAN"})
# Punctuation that joins letters in real words (l\u2019eau, l\u00b7l): quotes, middle dot, hyphens, dashes.
_JOINERS = frozenset("\u2019\u2018\u00b7\u2010\u2011\u2013\u2014\u02bc")
_ODD_SHARE = 0.05  # of the non-ASCII characters
_BAD_SHARE = 0.05  # of all characters
_ACCENTED_SHARE = 0.35  # of the Latin letters, counted from 20 on


@dataclass(frozen=True)
class Oddity:
    """What a reading of a page's window holds."""

    characters: int
    bad: int  # control, unassigned, private-use characters, U+FFFD
    non_ascii: int
    odd: int  # odd non-ASCII characters, bad ones included
    latin: int  # Latin letters
    accented: int  # Latin letters outside ASCII

    @property
    def share(self) -> float:
        """The share of odd characters among the non-ASCII ones; 1 when the Latin letters are mostly accented."""
        if self.latin >= 20 and self.accented > _ACCENTED_SHARE * self.latin:
            return 1.0
        return self.odd / self.non_ascii if self.non_ascii else 0.0

    @property
    def garbled(self) -> bool:
        return self.bad > _BAD_SHARE * self.characters or (self.odd >= 2 and self.share > _ODD_SHARE) \
            or self.share == 1.0


def window(content: bytes) -> bytes:
    """The bytes the checks read: from a little before the first non-ASCII byte (on a 4-byte boundary)."""
    first = _NON_ASCII_BYTE.search(content)
    start = max(0, first.start() - 256) & ~3 if first else 0
    return content[start:start + WINDOW_BYTES]


def reading(content: bytes, encoding: str) -> str:
    """The window of ``content`` read as ``encoding`` (a character cut at its end becomes U+FFFD)."""
    return window(content).decode(encoding, errors="replace")


def markup_lost(text: str, content: bytes) -> bool:
    """Whether ``text``, read from ``content``'s window, has lost the ASCII tags the bytes hold."""
    tags = len(_ASCII_TAG.findall(window(content)))
    return tags >= 3 and len(_TAG.findall(text)) < tags / 2


def plausible(content: bytes, encoding: str) -> bool:
    """Whether ``content`` read as ``encoding`` reads like text (valid UTF-8 only needs its markup and no NULs)."""
    text = reading(content, encoding)
    if markup_lost(text, content):
        return False
    if codecs.lookup(encoding).name == "utf-8":
        return len(_CONTROL.findall(text)) <= _BAD_SHARE * len(text)
    return not oddity(text).garbled


_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\ud800-\udfff]")


def unreadable_share(text: str) -> float:
    """The share of ``text``'s characters that no writing uses: controls, U+FFFD, private-use, surrogates.

    Binary bytes make text of this kind whatever they are read as; real text, even badly decoded, has few.
    """
    return len(_UNREADABLE.findall(text)) / len(text) if text else 0.0


def oddity(text: str) -> Oddity:
    bad = len(_ASCII_CONTROL.findall(text))
    odd = non_ascii = accented = 0
    for match in _NON_ASCII.finditer(text):
        char, at = match.group(), match.start()
        non_ascii += 1
        if _is_bad(char):
            bad += 1
            odd += 1
            continue
        accented += char.isalpha() and _script(char) == "LATIN"
        odd += _is_odd(char, text[at - 1] if at else " ", text[at + 1] if at + 1 < len(text) else " ")
    latin = len(_ASCII_LETTERS.findall(text)) + accented
    return Oddity(len(text), bad, non_ascii, odd, latin, accented)


def _is_bad(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs")


def _is_odd(char: str, before: str, after: str) -> bool:
    if char.isalpha():
        return _other_script(char, before) or _other_script(char, after) or (char.isupper() and before.islower())
    symbol = unicodedata.category(char)[0] in "SP" or unicodedata.category(char) == "No"
    return symbol and char not in _JOINERS and before.isalpha() and after.isalpha()


def _other_script(char: str, neighbour: str) -> bool:
    if not neighbour.isalpha():
        return False
    mine, theirs = _script(char), _script(neighbour)
    return mine is not None and theirs is not None and mine != theirs


@lru_cache(maxsize=8192)
def _script(char: str) -> str | None:
    script = unicodedata.name(char, "").split(" ", 1)[0]
    return script if script in _SCRIPTS else None
