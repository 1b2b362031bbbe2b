"""Reports: McGill endnotes, per-document HTML pages and the corpus report.

- :mod:`.citations`: :func:`format_citation`, :func:`annotate`, :func:`endnotes`,
  :func:`to_markdown` (the seed report's endnote style);
- :mod:`.document`: one HTML page per document with its spans highlighted;
- :mod:`.corpus`: :func:`write_reports` and :func:`rebuild_reports`;
- :mod:`.charts`: the PNG charts.
"""

from __future__ import annotations

from .citations import Endnote, EndnoteItem, annotate, endnotes, format_citation, to_markdown
from .corpus import rebuild_reports, write_reports
from .document import render_document, safe_name, write_document

__all__ = [
    "Endnote",
    "EndnoteItem",
    "annotate",
    "endnotes",
    "format_citation",
    "rebuild_reports",
    "render_document",
    "safe_name",
    "to_markdown",
    "write_document",
    "write_reports",
]
