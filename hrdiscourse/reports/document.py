"""Per-document HTML report: highlighted text, label, evidence, links, citation.

Every piece of document text and metadata goes through Jinja2 with autoescaping on;
only http(s) urls become links. Spans may overlap or nest: the text is split at every
span boundary and each piece is wrapped in one ``<mark>`` per span covering it, outer
spans first, so the HTML nests correctly whatever the spans do.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..errors import ConfigError
from .citations import (
    STRENGTHS,
    annotate,
    citation_parts,
    format_citation,
    format_date,
    safe_url,
    smart_quotes,
)

__all__ = [
    "HR_CATEGORY",
    "Mark",
    "Segment",
    "category_colour",
    "document_context",
    "render_document",
    "safe_name",
    "segments",
    "template_env",
    "write_document",
]

#: Category key of harm-reduction mentions in the legend and the marks.
HR_CATEGORY = "harm_reduction"

_COLOURS: dict[str, str] = {
    HR_CATEGORY: "#1b9e77",
    "exit_abstinence": "#d95f02",
    "relapse_pathologizing": "#a6761d",
    "rescue_saving": "#e7298a",
    "trafficking_exploitation": "#7570b3",
    "victim_deviance": "#e6ab02",
    "law_enforcement": "#1f4e9e",
    "criminalization_prohibition": "#b2182b",
    "conditional_support": "#8c510a",
    "surveillance_profiling": "#5e3c99",
    "behaviour_control": "#c51b7d",
    "nuisance_public_order": "#66a61e",
    "moral_balancing": "#01665e",
    "eradication_ideal": "#67001f",
}
_EXTRA = ("#3288bd", "#f46d43", "#5aae61", "#9970ab", "#bf812d", "#35978f", "#de77ae", "#878787")


def category_colour(category: str) -> str:
    """A stable colour for a category (unknown categories hash into a spare palette)."""
    if category in _COLOURS:
        return _COLOURS[category]
    if category.startswith("extension"):
        return "#4575b4"
    if category.startswith("aligned"):
        return "#35978f" if category.endswith("agency") else "#5aae61"
    digest = int(hashlib.sha1(category.encode("utf-8")).hexdigest(), 16)
    return _EXTRA[digest % len(_EXTRA)]


def safe_name(doc_id: str) -> str:
    """A file name for ``doc_id`` that stays inside its folder on every OS.

    Keeps ASCII letters, digits, ``-``, ``_`` and ``.`` (never a leading dot), and adds
    a short hash whenever anything was changed so that two ids never collide. The same
    rule as the runner's ``docs/<safe id>.json``, so the HTML sits next to the JSON.
    """
    kept = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else "_" for c in doc_id)
    kept = kept.lstrip(".")[:80] or "doc"
    if kept != doc_id:
        kept = f"{kept}-{hashlib.sha1(doc_id.encode('utf-8')).hexdigest()[:8]}"
    return kept


@dataclass(frozen=True)
class Mark:
    """One span as drawn: its id, category, flags and nesting depth in a segment."""

    span_id: str
    category: str
    colour: str
    kind: str
    negated: bool
    critical: bool
    hedged: bool
    depth: int
    title: str


@dataclass(frozen=True)
class Segment:
    """A piece of text between two span boundaries and the marks covering it, outer first."""

    text: str
    marks: tuple[Mark, ...]


def clamped_spans(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Mentions and signals with offsets clamped to the text (empty or malformed ones dropped),
    each with ``_kind`` (``hr``/``signal``) and ``_category`` added."""
    text = result.get("text") or ""
    out = []
    for kind, key in (("hr", "hr_mentions"), ("signal", "signals")):
        for span in result.get(key) or []:
            start, end = span.get("start"), span.get("end")
            if not (isinstance(start, int) and isinstance(end, int)):
                continue
            start, end = max(0, start), min(len(text), end)
            if start >= end:
                continue
            category = HR_CATEGORY if kind == "hr" else str(span.get("category") or "other")
            out.append({**span, "start": start, "end": end, "_kind": kind, "_category": category})
    return out


def segments(result: Mapping[str, Any]) -> list[Segment]:
    """Split the text at every span boundary; each piece lists the spans that cover it.

    Marks are ordered outer first (earlier start, then later end), and ``depth`` counts
    how many marks lie inside each one, so stacked underlines never hide each other.
    Concatenating the segments' text gives the document text back.
    """
    text = result.get("text") or ""
    spans = clamped_spans(result)
    cuts = sorted({0, len(text), *(s["start"] for s in spans), *(s["end"] for s in spans)})
    spans.sort(key=lambda s: (s["start"], -s["end"], s["_kind"] != "hr", str(s.get("id"))))
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a == b:
            continue
        covering = [s for s in spans if s["start"] <= a and b <= s["end"]]
        n = len(covering)
        marks = tuple(
            Mark(
                span_id=str(s.get("id") or ""),
                category=s["_category"],
                colour=category_colour(s["_category"]),
                kind=s["_kind"],
                negated=bool(s.get("negated")),
                critical=bool(s.get("critical")),
                hedged=bool(s.get("hedged")),
                depth=n - 1 - i,
                title=_mark_title(s),
            )
            for i, s in enumerate(covering)
        )
        out.append(Segment(text=text[a:b], marks=marks))
    return out


def _mark_title(span: Mapping[str, Any]) -> str:
    flags = [f for f in ("negated", "hedged", "quoted", "critical") if span.get(f)]
    parts = [str(span.get("id") or ""), span["_category"]]
    if flags:
        parts.append(", ".join(flags))
    if span.get("speaker"):
        parts.append(f"speaker: {span['speaker']}")
    return " · ".join(p for p in parts if p)


_ENV: jinja2.Environment | None = None


def template_env() -> jinja2.Environment:
    """The Jinja2 environment of the report templates (autoescape always on)."""
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("hrdiscourse.reports", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters["safe_url"] = safe_url
        _ENV.filters["colour"] = category_colour
        _ENV.filters["smart_quotes"] = smart_quotes
    return _ENV


def _legend(result: Mapping[str, Any]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    if result.get("hr_mentions"):
        seen[HR_CATEGORY] = {
            "category": HR_CATEGORY,
            "colour": category_colour(HR_CATEGORY),
            "name": "harm-reduction framing",
        }
    for s in result.get("signals") or []:
        cat = str(s.get("category") or "other")
        if cat not in seen:
            kind = s.get("kind") or "coopting"
            seen[cat] = {"category": cat, "colour": category_colour(cat), "name": f"{kind}: {cat}"}
    return list(seen.values())


def document_context(result: Mapping[str, Any], *, manifest: Mapping[str, Any] | None = None) -> dict:
    """The template variables of a document page (no HTML is built here)."""
    mentions = {m.get("id"): m for m in result.get("hr_mentions") or []}
    signals = {s.get("id"): s for s in result.get("signals") or []}
    links = []
    rank = {s: i for i, s in enumerate(STRENGTHS)}
    for link in sorted(result.get("links") or [], key=lambda x: rank.get(x.get("strength"), 9)):
        m, s = mentions.get(link.get("mention")), signals.get(link.get("signal"))
        links.append(
            {
                "mention_id": link.get("mention"),
                "mention": (m or {}).get("text", ""),
                "signal_id": link.get("signal"),
                "signal": (s or {}).get("text", ""),
                "category": (s or {}).get("category", ""),
                "kind": (s or {}).get("kind", ""),
                "strength": link.get("strength", ""),
                "sent_distance": link.get("sent_distance", ""),
                "flags": ", ".join(
                    f
                    for f in ("negated", "hedged", "quoted", "critical")
                    if (s or {}).get(f) or (m or {}).get(f)
                ),
            }
        )
    scores = sorted((result.get("label_scores") or {}).items(), key=lambda kv: (-float(kv[1] or 0), kv[0]))
    annotation = result.get("annotation") or annotate(result)
    lang = "fr" if result.get("language") == "fr" else "en"
    return {
        "doc": result,
        "page_lang": "fr" if result.get("language") == "fr" else "en",
        "title": result.get("title") or result.get("doc_id") or "Untitled document",
        "citation": result.get("citation") or format_citation(result, lang=lang),
        "cite_parts": citation_parts(result, lang=lang),
        "url": safe_url(result.get("url")),
        "date": format_date(result.get("date"), lang=lang),
        "annotation": annotation,
        "scores": scores,
        "evidence": list(result.get("evidence") or []),
        "links": links,
        "mentions": list(result.get("hr_mentions") or []),
        "signals": list(result.get("signals") or []),
        "segments": segments(result),
        "legend": _legend(result),
        "lexicons": result.get("lexicons") or (manifest or {}).get("lexicons") or {},
        "model": result.get("model") or (manifest or {}).get("model") or {},
    }


def render_document(result: Mapping[str, Any], *, manifest: Mapping[str, Any] | None = None) -> str:
    """The HTML page of one analysed document.

    Args:
        result: a documents.jsonl dict.
        manifest: the run's manifest, for the lexicon/model versions when the result
            lacks them.
    """
    return template_env().get_template("document.html").render(**document_context(result, manifest=manifest))


def _inside(base: Path, target: Path) -> bool:
    base_r, target_r = os.path.realpath(base), os.path.realpath(target)
    return os.path.commonpath([base_r, target_r]) == base_r


def write_document(
    docs_dir: str | Path, result: Mapping[str, Any], *, manifest: Mapping[str, Any] | None = None
) -> Path:
    """Write ``<docs_dir>/<safe id>.html`` for one document and return its path.

    Raises:
        ConfigError: if the file would land outside ``docs_dir`` (cannot happen with
            :func:`safe_name`; checked anyway because ids come from input data).
    """
    docs = Path(docs_dir)
    docs.mkdir(parents=True, exist_ok=True)
    path = docs / f"{safe_name(str(result.get('doc_id') or ''))}.html"
    if not _inside(docs, path):
        raise ConfigError(f"{path}: a document page must stay inside {docs}; the doc id is not usable.")
    path.write_text(render_document(result, manifest=manifest), encoding="utf-8")
    return path
