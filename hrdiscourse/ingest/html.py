"""Web pages (``.html``, ``.htm``): main text without navigation, ads and footers.

Trafilatura extracts the article body and its metadata (title, author, date, site
name, canonical URL). When it finds nothing, the ``<title>``/``<meta>`` tags and the
visible body text are read directly with lxml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import set_date_params

from ..types import Record, Rejected
from .decode import clean_text, decode_bytes
from .meta import make_record

# Trafilatura logs every page it finds too short; a batch reader reports through Rejected.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header "
    "hr li main nav ol p pre section table td th tr ul".split()
)
_WS_RE = re.compile(r"\s+")
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form")

_META_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("og:title", "twitter:title", "dc.title", "citation_title"),
    "author": ("author", "article:author", "dc.creator", "citation_author", "byl"),
    "date": (
        "article:published_time",
        "date",
        "dc.date",
        "dc.date.issued",
        "citation_publication_date",
        "pubdate",
        "publishdate",
    ),
    "outlet": ("og:site_name", "application-name", "citation_journal_title"),
    "url": ("og:url",),
    "language": ("content-language", "dc.language"),
}


# libxml2 silently drops what is nested deeper than 256 elements; huge_tree raises that to
# 2,048 (hostile or machine-made pages nest deeper still: see _streamed_text).
_PARSER = lxml.html.HTMLParser(huge_tree=True)


def _parse(content: bytes | str, *, fragment: bool = False) -> lxml.html.HtmlElement | None:
    try:
        if fragment:
            return lxml.html.fragment_fromstring(content, create_parent="div", parser=_PARSER)
        return lxml.html.document_fromstring(content, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return None


def element_text(root: lxml.html.HtmlElement, *, drop_boilerplate: bool = True) -> str:
    """Visible text of an element, one line per block element.

    Args:
        root: A parsed HTML element.
        drop_boilerplate: Also drop ``nav``, ``header``, ``footer``, ``aside`` and ``form``.

    Returns:
        The text, cleaned with :func:`~hrdiscourse.ingest.decode.clean_text`.
    """
    drop = _DROP_TAGS if drop_boilerplate else _DROP_TAGS[:4]
    for el in list(root.iter(*drop)):
        if el is not root and el.getparent() is not None:
            el.drop_tree()
    parts: list[str] = []
    # iterwalk, not recursion: hostile pages nest elements thousands deep.
    for event, el in lxml.etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        tag = el.tag if isinstance(el.tag, str) else None
        if tag in _BLOCK_TAGS and event in ("start", "end"):
            parts.append("\n")
        if event == "start":
            if tag and el.text:
                parts.append(_WS_RE.sub(" ", el.text))
        elif el.tail and el is not root:  # "end", or a comment / processing instruction
            parts.append(_WS_RE.sub(" ", el.tail))
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return clean_text("\n".join(line for line in lines if line))


class _StreamedText(HTMLParser):
    """Visible text from a streaming parser: it builds no tree, so nesting depth does not matter."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_TAGS[:4]:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS[:4]:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(_WS_RE.sub(" ", data))


def _streamed_text(data: bytes) -> str:
    """Visible text of a page lxml could not read (nested deeper than libxml2's limit)."""
    parser = _StreamedText()
    parser.feed(decode_bytes(data))
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return clean_text("\n".join(line for line in lines if line))


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed item's content or description)."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    root = _parse(fragment, fragment=True)
    return clean_text(fragment) if root is None else element_text(root, drop_boilerplate=False)


def _fallback_meta(root: lxml.html.HtmlElement) -> dict[str, Any]:
    found: dict[str, Any] = {}
    metas: dict[str, str] = {}
    for el in root.iter("meta"):
        name = (el.get("property") or el.get("name") or el.get("http-equiv") or "").strip().lower()
        content = el.get("content")
        if name and content and name not in metas:
            metas[name] = content
    for field, names in _META_NAMES.items():
        for name in names:
            if metas.get(name):
                found[field] = metas[name]
                break
    if "title" not in found:
        title = root.find(".//title")
        if title is not None and title.text_content().strip():
            found["title"] = title.text_content()
    canonical = root.find(".//link[@rel='canonical']")
    if canonical is not None and canonical.get("href"):
        found["url"] = canonical.get("href")
    if "language" not in found and root.get("lang"):
        found["language"] = root.get("lang")
    return found


def read_html(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a web page as one document.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        One Record, or one Rejected when the page has no text.
    """
    yield html_record(path.read_bytes(), file=file)


def html_record(
    data: bytes, *, file: str, location: str = "", meta: Mapping[str, Any] | None = None
) -> Record | Rejected:
    """Extract one web page's main text and metadata (the ``.html`` reader, and WARC captures).

    Args:
        data: The page as bytes (the encoding is detected from the page).
        file: The file's source path.
        location: Where the page is inside the file (``offset N`` in a web archive), empty
            for a whole file.
        meta: Metadata that overrides what the page says (a capture's target URL) or is
            kept under ``extra``.

    Returns:
        A Record, or a Rejected when the page has no text.
    """
    doc = trafilatura.bare_extraction(
        data,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        # Dates from markup and metadata only: a deadline in the text is not a publication date.
        date_extraction_params=set_date_params(extensive=False),
    )
    found: dict[str, Any] = {}
    text = ""
    if doc is not None:
        text = doc.text or ""
        found = {
            "title": doc.title,
            "author": doc.author,
            "date": doc.date,
            "outlet": doc.sitename,
            "url": doc.url,
            "language": doc.language,
        }
    root = _parse(data)
    if root is not None:
        for key, value in _fallback_meta(root).items():
            if not found.get(key):
                found[key] = value
        if not clean_text(text):
            text = element_text(root)
    if not clean_text(text):
        text = _streamed_text(data)
    if not clean_text(text):
        return Rejected(
            file,
            "no text found in the HTML page (no article body or visible text); save the page after it has "
            "loaded, or use the reader view / a text export.",
            location,
        )
    raw = {k: v for k, v in found.items() if v}
    raw.update({k: v for k, v in (meta or {}).items() if v is not None})
    return make_record(text, raw, file=file, location=location)
