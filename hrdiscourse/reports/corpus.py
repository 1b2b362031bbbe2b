"""Corpus report: counts, co-occurrence, concordance, endnotes, charts and per-document pages.

:func:`write_reports` streams the results: each document's page is written as soon as
it arrives, and only small per-document summaries (no text) are kept for the corpus
tables, so a large run's reports fit in memory.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..results import DOCUMENTS, MANIFEST, iter_documents, read_manifest
from ..types import DOC_TYPES, LABELS
from . import charts
from .citations import (
    STRENGTHS,
    EndnoteItem,
    _md,
    annotate,
    endnote_item,
    group_endnotes,
    hr_phrase,
    to_markdown,
)
from .document import template_env, write_document

__all__ = ["CorpusSummary", "rebuild_reports", "write_reports"]

#: Entries kept per category in the concordance.
CONCORDANCE_PER_CATEGORY = 5
#: Rows kept in the top speakers / outlets tables.
TOP_N = 20
_CONTEXT = 70
_RANK = {s: i for i, s in enumerate(STRENGTHS)}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
NO_OUTLET = "(no outlet)"
NO_YEAR = "(no date)"


def _year(date: Any) -> str:
    m = _YEAR.search(str(date or ""))
    return m.group(1) if m else ""


def _usable(span: Mapping[str, Any] | None) -> bool:
    return bool(span) and not span.get("negated") and not span.get("critical")


@dataclass
class CorpusSummary:
    """Running counts of a corpus; :meth:`add` takes one result and keeps no text."""

    documents: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    by_doc_type: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_outlet: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_year: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cooccurrence: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    concordance: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    speakers: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    rows: list[dict[str, str]] = field(default_factory=list)
    items: list[EndnoteItem] = field(default_factory=list)

    def add(self, result: Mapping[str, Any], page: str) -> None:
        """Count one result; ``page`` is its page's path relative to the report folder."""
        label = str(result.get("label") or "none")
        outlet = str(result.get("outlet") or "").strip() or NO_OUTLET
        self.documents += 1
        self.labels[label] += 1
        self.by_doc_type[label][str(result.get("doc_type") or "other")] += 1
        self.by_outlet[outlet][label] += 1
        self.by_year[_year(result.get("date"))][label] += 1
        annotation = result.get("annotation") or annotate(result)
        self.rows.append(
            {
                "doc_id": str(result.get("doc_id") or ""),
                "page": page,
                "title": str(result.get("title") or ""),
                "label": label,
                "doc_type": str(result.get("doc_type") or ""),
                "outlet": str(result.get("outlet") or ""),
                "date": str(result.get("date") or ""),
                "annotation": annotation,
            }
        )
        if label != "none":
            self.items.append(endnote_item(result))
        self._add_links(result, label, page)

    def _add_links(self, result: Mapping[str, Any], label: str, page: str) -> None:
        text = result.get("text") or ""
        mentions = {m.get("id"): m for m in result.get("hr_mentions") or []}
        signals = {s.get("id"): s for s in result.get("signals") or []}
        best: dict[str, str] = {}
        doc_speakers: set[str] = set()
        for link in result.get("links") or []:
            m, s = mentions.get(link.get("mention")), signals.get(link.get("signal"))
            strength = str(link.get("strength") or "")
            if not (_usable(m) and _usable(s)) or strength not in _RANK:
                continue
            cat = str(s.get("category") or "other")
            if cat not in best or _RANK[strength] < _RANK[best[cat]]:
                best[cat] = strength
            self._add_concordance(result, text, m, s, cat, strength, label, page)
            if (s.get("kind") or "coopting") == "coopting" and strength != "document":
                for who in {m.get("speaker"), s.get("speaker")} - {None, ""}:
                    self.speakers[str(who)]["links"] += 1
                    doc_speakers.add(str(who))
        for cat, strength in best.items():
            self.cooccurrence[cat][strength] += 1
        for who in doc_speakers:
            self.speakers[who]["documents"] += 1

    def _add_concordance(
        self,
        result: Mapping[str, Any],
        text: str,
        mention: Mapping[str, Any],
        signal: Mapping[str, Any],
        cat: str,
        strength: str,
        label: str,
        page: str,
    ) -> None:
        start, end = signal.get("start"), signal.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            return
        # Context stays inside the signal's sentence when the result says where it is.
        lo, hi = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
        sent_start, sentence = signal.get("sent_start"), signal.get("sentence")
        if isinstance(sent_start, int) and isinstance(sentence, str) and sent_start <= start:
            if end <= sent_start + len(sentence):
                lo, hi = max(lo, sent_start), min(hi, sent_start + len(sentence))
        entry = {
            "category": cat,
            "strength": strength,
            "doc_id": str(result.get("doc_id") or ""),
            "label": label,
            "left": " ".join(text[lo:start].split()),
            "keyword": " ".join(text[start:end].split()),
            "right": " ".join(text[end:hi].split()),
            "hr_phrase": " ".join(hr_phrase(text, mention)[0].split()),
            "page": page,
        }
        kept = self.concordance[cat]
        if any(e["doc_id"] == entry["doc_id"] and e["keyword"] == entry["keyword"] for e in kept):
            return
        kept.append(entry)
        kept.sort(key=lambda e: _RANK[e["strength"]])  # stable: earlier documents first
        del kept[CONCORDANCE_PER_CATEGORY:]


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _label_columns(counters: Iterable[Counter[str]]) -> list[str]:
    extra = sorted({k for c in counters for k in c} - set(LABELS))
    return list(LABELS) + extra


def _tables(summary: CorpusSummary) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every corpus table as (header, rows), shared by the CSV, HTML and Markdown outputs."""
    s = summary
    doc_types = list(DOC_TYPES) + sorted({t for c in s.by_doc_type.values() for t in c} - set(DOC_TYPES))
    labels_present = [lb for lb in _label_columns(s.by_doc_type.values()) if lb in s.labels] or list(LABELS)
    by_type = [[lb, *(s.by_doc_type[lb].get(t, 0) for t in doc_types), s.labels[lb]] for lb in labels_present]
    cols = _label_columns(s.by_outlet.values())
    outlets = sorted(s.by_outlet, key=lambda o: (-sum(s.by_outlet[o].values()), o))
    by_outlet = [
        [o, *(s.by_outlet[o].get(c, 0) for c in cols), sum(s.by_outlet[o].values())] for o in outlets
    ]
    years = sorted(s.by_year, key=lambda y: (y == "", y))
    by_year = [
        [y or NO_YEAR, *(s.by_year[y].get(c, 0) for c in cols), sum(s.by_year[y].values())] for y in years
    ]
    cooc = [
        [cat, *(s.cooccurrence[cat].get(st, 0) for st in STRENGTHS), sum(s.cooccurrence[cat].values())]
        for cat in sorted(s.cooccurrence)
    ]
    conc = [
        [
            e["category"],
            e["strength"],
            e["doc_id"],
            e["label"],
            e["left"],
            e["keyword"],
            e["right"],
            e["hr_phrase"],
        ]
        for cat in sorted(s.concordance)
        for e in s.concordance[cat]
    ]
    speakers = sorted(s.speakers, key=lambda w: (-s.speakers[w]["documents"], -s.speakers[w]["links"], w))
    top_speakers = [[w, s.speakers[w]["documents"], s.speakers[w]["links"]] for w in speakers[:TOP_N]]
    coopting = [
        o for o in outlets if s.by_outlet[o].get("coopted", 0) + s.by_outlet[o].get("copresent", 0) > 0
    ]
    coopting.sort(key=lambda o: (-s.by_outlet[o].get("coopted", 0), -s.by_outlet[o].get("copresent", 0), o))
    top_outlets = [
        [
            o,
            s.by_outlet[o].get("coopted", 0),
            s.by_outlet[o].get("copresent", 0),
            sum(s.by_outlet[o].values()),
        ]
        for o in coopting[:TOP_N]
    ]
    return {
        "labels_by_doc_type": (["label", *doc_types, "total"], by_type),
        "labels_by_outlet": (["outlet", *cols, "total"], by_outlet),
        "labels_by_year": (["year", *cols, "total"], by_year),
        "cooccurrence": (["signal_category", *STRENGTHS, "documents"], cooc),
        "concordance": (
            ["category", "strength", "doc_id", "label", "left", "keyword", "right", "hr_phrase"],
            conc,
        ),
        "top_speakers": (["speaker", "documents", "links"], top_speakers),
        "top_outlets": (["outlet", "coopted", "copresent", "documents"], top_outlets),
    }


TABLE_TITLES: dict[str, str] = {
    "labels_by_doc_type": "Labels by document type",
    "labels_by_outlet": "Labels by outlet",
    "labels_by_year": "Labels by year",
    "cooccurrence": (
        "Harm reduction x signal category by link strength (documents, strongest link per category; "
        "negated and critical spans left out)"
    ),
    "concordance": "Concordance: strongest evidence per category",
    "top_speakers": "Top co-opting speakers (reported speech in direct, sentence or nearby links)",
    "top_outlets": "Top co-opting outlets",
}


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return _md(" ".join(str(v).split())) or " "

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _code(value: Any) -> str:
    """A Markdown code span (backticks inside the value are dropped)."""
    text = " ".join(str(value).replace("`", "").split())
    return f"`{text}`" if text else "` `"


def _run_facts(manifest: Mapping[str, Any]) -> list[tuple[str, Any]]:
    keys = ("hrdiscourse", "started", "inputs", "analysed", "errors", "duplicates", "mode", "duration_s")
    return [(k, manifest[k]) for k in keys if k in manifest]


def _corpus_markdown(
    summary: CorpusSummary, tables: Mapping[str, tuple[list[str], list[list[Any]]]], manifest, notes_md: str
) -> str:
    out = ["# hrdiscourse corpus report", ""]
    out += ["## Run", ""]
    out += [f"- {k}: {_md(str(v))}" for k, v in _run_facts(manifest)]
    for title, mapping in (("Model", manifest.get("model")), ("Lexicons", manifest.get("lexicons"))):
        pairs = ", ".join(f"{_code(k)} {_code(v)}" for k, v in (mapping or {}).items())
        out.append(f"- {title}: {pairs or 'not recorded'}")
    out += ["", "## Labels", ""]
    out.append(_md_table(["label", "documents"], [[lb, summary.labels.get(lb, 0)] for lb in LABELS]))
    out += [
        "",
        "![Documents per label](charts/labels.png)",
        "",
        "![Labels by year](charts/labels_by_year.png)",
        "",
    ]
    for key, (header, rows) in tables.items():
        out += [f"## {TABLE_TITLES[key]}", "", f"CSV: `tables/{key}.csv`", ""]
        out.append(_md_table(header, rows) if rows else "_none_")
        out.append("")
        if key == "cooccurrence":
            out += ["![Co-occurrence heatmap](charts/cooccurrence.png)", ""]
    out += ["## Endnotes", "", notes_md or "_No document uses harm-reduction framing._", ""]
    return "\n".join(out).rstrip() + "\n"


def write_reports(
    out_dir: str | Path, results: Iterable[Mapping[str, Any]], manifest: Mapping[str, Any]
) -> list[Path]:
    """Write the corpus and per-document reports of a run.

    Writes ``index.html``, ``corpus.md``, ``endnotes.md``, ``tables/*.csv``,
    ``charts/*.png`` and ``docs/<safe id>.html`` under ``out_dir``.

    Args:
        out_dir: report folder (created if needed).
        results: documents.jsonl dicts, consumed once; each page is written as the
            result arrives and no document text is kept.
        manifest: the run's manifest (its model and lexicon versions are shown).

    Returns:
        Every file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    summary = CorpusSummary()
    for result in results:
        page = write_document(out / "docs", result, manifest=manifest)
        written.append(page)
        summary.add(result, page.relative_to(out).as_posix())

    tables = _tables(summary)
    for key, (header, rows) in tables.items():
        written.append(_write_csv(out / "tables" / f"{key}.csv", header, rows))
    written.append(
        _write_csv(
            out / "tables" / "documents.csv",
            ["doc_id", "title", "label", "doc_type", "outlet", "date", "annotation"],
            (
                [r[k] for k in ("doc_id", "title", "label", "doc_type", "outlet", "date", "annotation")]
                for r in summary.rows
            ),
        )
    )

    chart_paths = {
        "labels": charts.label_bar_chart(summary.labels, out / "charts" / "labels.png"),
        "labels_by_year": charts.label_trend_chart(summary.by_year, out / "charts" / "labels_by_year.png"),
        "cooccurrence": charts.cooccurrence_heatmap(
            summary.cooccurrence, out / "charts" / "cooccurrence.png"
        ),
    }
    written.extend(chart_paths.values())

    notes = group_endnotes(summary.items)
    notes_md = to_markdown(notes)
    (out / "endnotes.md").write_text(notes_md, encoding="utf-8")
    written.append(out / "endnotes.md")
    (out / "corpus.md").write_text(_corpus_markdown(summary, tables, manifest, notes_md), encoding="utf-8")
    written.append(out / "corpus.md")

    pages = {row["doc_id"]: row["page"] for row in summary.rows}
    html = (
        template_env()
        .get_template("index.html")
        .render(
            page_lang="en",
            manifest=manifest,
            facts=_run_facts(manifest),
            model=manifest.get("model") or {},
            lexicons=manifest.get("lexicons") or {},
            documents=summary.documents,
            label_counts=[(lb, summary.labels.get(lb, 0)) for lb in LABELS],
            tables=[(key, TABLE_TITLES[key], header, rows) for key, (header, rows) in tables.items()],
            charts={k: p.relative_to(out).as_posix() for k, p in chart_paths.items()},
            notes=notes,
            pages=pages,
            rows=summary.rows,
        )
    )
    (out / "index.html").write_text(html, encoding="utf-8")
    written.append(out / "index.html")
    return written


def rebuild_reports(out_dir: str | Path) -> list[Path]:
    """Rebuild the reports of a run from its ``documents.jsonl`` and ``manifest.json``.

    ``documents.jsonl`` is streamed: pages are written as its lines are read.

    Raises:
        ConfigError: if the folder lacks ``documents.jsonl`` or ``manifest.json``.
        IngestError: if a line of ``documents.jsonl`` is not a result, or the manifest
            is not a JSON object.

        Both are a :class:`~hrdiscourse.errors.ResultsError`, which is both classes.
    """
    out = Path(out_dir)
    documents = iter_documents(out / DOCUMENTS)
    manifest = read_manifest(out / MANIFEST, required=True)
    return write_reports(out, documents, manifest)
