"""XML from strangers, parsed without entity expansion.

Feeds and sitemaps come from anywhere, and an XML document can declare entities that expand to
gigabytes ("billion laughs") or pull in files and URLs (external entities). Neither is ever needed for
a feed or a sitemap, so a document that declares an entity is refused outright, before feedparser or
any other parser sees it. Sitemaps are parsed with :mod:`defusedxml`, which forbids the same.
"""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
              (codecs.BOM_UTF16_BE, "utf-16"))


def strip_leading(content: bytes) -> bytes:
    """``content`` without a UTF-8 byte order mark or whitespace before the first ``<`` (a common slip)."""
    return content.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")


def _as_utf8(content: bytes) -> bytes:
    for bom, encoding in _WIDE_BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace").encode("utf-8")
    return content


def entity_problem(content: bytes) -> str | None:
    """Why ``content`` must not be parsed (it declares entities), or None when it is safe to hand on.

    A document that is not well-formed is not *refused* here: lenient parsers may still read it, and
    without an entity declaration it cannot expand.
    """
    if _ENTITY_DECLARATION.search(_as_utf8(content)):
        return "it declares XML entities (<!ENTITY>), which could expand without bound; they are never read"
    try:
        fromstring(strip_leading(content), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return f"it uses forbidden XML constructs ({type(exc).__name__}: {exc})"
    except (ParseError, ValueError, LookupError):
        return None
    return None


def parse_xml(content: bytes) -> Element:
    """The root element of a well-formed document without entity declarations; ValueError otherwise."""
    problem = entity_problem(content)
    if problem:
        raise ValueError(problem)
    try:
        return fromstring(strip_leading(content), forbid_dtd=False, forbid_entities=True,
                          forbid_external=True)
    except ParseError as exc:
        raise ValueError(f"it is not well-formed XML: {exc}") from exc
    except DefusedXmlException as exc:
        raise ValueError(f"it uses forbidden XML constructs ({type(exc).__name__}: {exc})") from exc


def local_name(element: Element) -> str:
    """An element's tag without its namespace: sitemaps in the wrong namespace are still sitemaps."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()
