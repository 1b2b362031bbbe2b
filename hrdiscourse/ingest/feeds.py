"""RSS and Atom feeds (``.xml``, ``.rss``, ``.atom``, ``.feed``): one document per item.

Feeds come from the network, so they are checked with defusedxml before feedparser
sees them: a feed that declares entities (entity expansion, "billion laughs") or
refers to external entities or DTDs (XXE, which can read local files) is rejected
whole, and no entity is ever expanded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree
import feedparser
from defusedxml import DefusedXmlException

from ..types import Record, Rejected
from .decode import decode_bytes
from .html import html_to_text
from .meta import make_record

_ENTITY_RE = re.compile(r"<!ENTITY", re.I)
_UNSAFE = (
    "the feed declares XML entities or an external DTD ({what}); entity expansion (billion laughs) and "
    "external entities (XXE) are refused. Remove the <!DOCTYPE ...> block if the feed is trusted."
)


def check_xml_safety(data: bytes) -> str | None:
    """Refuse XML that declares entities or references external resources.

    Args:
        data: The raw feed bytes.

    Returns:
        A rejection reason, or None when the document is safe to parse.
    """
    try:
        defusedxml.ElementTree.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        return _UNSAFE.format(what=type(exc).__name__)
    except (ET.ParseError, ValueError, TypeError, LookupError, UnicodeError):
        # Malformed XML: feedparser's lenient parser may still read it, unless it hides
        # an entity declaration the strict parser did not reach.
        if _ENTITY_RE.search(decode_bytes(data[:1_000_000])):
            return _UNSAFE.format(what="<!ENTITY> in malformed XML")
    return None


def _entry_text(entry: Any) -> str:
    for content in entry.get("content") or []:
        value = content.get("value") if isinstance(content, dict) else None
        if value and html_to_text(value):
            return value
    return entry.get("summary") or entry.get("description") or ""


def read_feed(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read an RSS or Atom feed: one document per item, ``item N`` counted from 1.

    Item title, author, date (published, else updated), link → ``url``,
    content (else summary/description, HTML removed) → text; the feed's title is the
    ``outlet`` of every item.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        A Record or a Rejected (``item N``) per item; one Rejected for the file when it
        is unsafe or not a feed.
    """
    data = path.read_bytes()
    unsafe = check_xml_safety(data)
    if unsafe:
        yield Rejected(file, unsafe)
        return
    parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
    entries = parsed.get("entries") or []
    if not entries:
        version = parsed.get("version") or ""
        what = "the feed has no items" if version else "not an RSS or Atom feed (no <item> or <entry> found)"
        yield Rejected(file, f"{what}; a feed file needs at least one <item> (RSS) or <entry> (Atom).")
        return
    outlet = (parsed.get("feed") or {}).get("title")
    for number, entry in enumerate(entries, start=1):
        location = f"item {number}"
        body = html_to_text(_entry_text(entry))
        if not body:
            yield Rejected(
                file,
                "the item has no content or description; only items with text can be analysed.",
                location,
            )
            continue
        raw = {
            "id": entry.get("id"),
            "title": html_to_text(entry.get("title") or "") or None,
            "author": entry.get("author"),
            "date": entry.get("published") or entry.get("updated"),
            "outlet": outlet,
            "url": entry.get("link"),
            "language": entry.get("language") or (parsed.get("feed") or {}).get("language"),
        }
        yield make_record(body, raw, file=file, location=location, what="the item")
