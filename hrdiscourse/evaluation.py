"""Span-level evaluation against ``corpora/gold/spans.jsonl``.

Predicted spans are the pipeline's harm-reduction mentions (category ``harm_reduction``)
and signals (``EXTENSION_*`` -> ``extension``, ``ALIGNED_*`` -> ``aligned``, the co-opting
labels lower-cased). Matching is one-to-one per category, *lenient* (same category,
overlapping characters) and *strict* (same offsets). Context flags (negated, hedged,
quoted, critical) are scored over the leniently matched pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from spacy.language import Language
from spacy.tokens import Doc

from .errors import ConfigError, IngestError
from .types import COOPTING_CATEGORIES

CATEGORIES: tuple[str, ...] = ("harm_reduction", *COOPTING_CATEGORIES, "extension", "aligned")
FLAGS: tuple[str, ...] = ("negated", "hedged", "quoted", "critical")
#: ``holdout``, ``holdout2``, ``holdout3``, ``holdout4``: ``spans_holdout*.jsonl``, each written
#: after the patterns by people who never saw them (blind when written, scored once, then
#: opened for tuning).
SPLITS = ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4")
COLUMNS = ["level", "name", "match", "tp", "fp", "fn", "support", "precision", "recall", "f1"]


def gold_category(label: str) -> str:
    """Map a pipeline span label to the gold category vocabulary."""
    if label.startswith("EXTENSION_"):
        return "extension"
    if label.startswith("ALIGNED_"):
        return "aligned"
    return label.lower()


def _find(text: str, needle: str, occurrence: int) -> int:
    pos = -1
    for _ in range(occurrence):
        pos = text.find(needle, pos + 1)
        if pos < 0:
            return -1
    return pos


def load_span_gold(
    path: str | Path, split: str | None = "dev", *, language: str | None = None
) -> list[dict[str, Any]]:
    """Read the span gold and compute character offsets.

    Args:
        path: The ``spans.jsonl`` file (``spans_fr.jsonl`` for French).
        split: ``"dev"``, ``"test"``, ``"holdout"`` or ``None`` for all items.
        language: Keep only items of this ``language`` (missing = ``en``); ``None`` keeps all.

    Returns:
        Items ``{"id", "split", "text", "spans": [{"start", "end", "text", "category",
        "negated", "hedged", "quoted", "critical"}], ...}`` of the requested split.

    Raises:
        ConfigError: unknown split.
        IngestError: the file is missing, a line is not JSON, or a span is not in its text.
    """
    if split is not None and split not in SPLITS:
        raise ConfigError(f"split {split!r} is not one of {SPLITS} (or None for all items).")
    path = Path(path)
    if not path.exists():
        raise IngestError(
            f"{path}: span gold not found; expected corpora/gold/spans.jsonl "
            "(see corpora/gold/GUIDELINES.md).",
            source=str(path),
        )
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"{path}: line {n}: not valid JSON ({exc.msg}); each line holds one gold item.",
                source=str(path),
                location=f"line {n}",
            ) from exc
        if "text" not in item or "split" not in item:
            raise IngestError(
                f"{path}: line {n}: field 'text' or 'split' is missing; "
                "each item needs id, split, text, spans.",
                source=str(path),
                location=f"line {n}",
            )
        if split is not None and item["split"] != split:
            continue
        if language is not None and str(item.get("language") or "en") != language:
            continue
        text = item["text"]
        spans = []
        for k, span in enumerate(item.get("spans") or []):
            occurrence = int(span.get("occurrence", 1))
            start = _find(text, span["text"], occurrence)
            if start < 0:
                raise IngestError(
                    f"{path}: line {n}: span #{k} {span['text']!r} (occurrence {occurrence}) is not in the "
                    "item's text; spans[].text must occur verbatim.",
                    source=str(path),
                    location=f"line {n}",
                )
            spans.append(
                {
                    "start": start,
                    "end": start + len(span["text"]),
                    "text": span["text"],
                    "category": span["category"],
                    **{flag: bool(span.get(flag, False)) for flag in FLAGS},
                }
            )
        items.append({**item, "spans": spans})
    return items


def predicted_spans(doc: Doc) -> list[dict[str, Any]]:
    """Return the pipeline's spans of ``doc`` in the gold format (category and flags)."""
    out = []
    for key in ("hrd_mentions", "hrd_signals"):
        for span in doc.spans.get(key, []) if key in doc.spans else []:
            out.append(
                {
                    "start": span.start_char,
                    "end": span.end_char,
                    "text": span.text,
                    "category": gold_category(span.label_),
                    "entry_id": span.id_,
                    **{flag: bool(getattr(span._, f"hrd_{flag}")) for flag in FLAGS},
                }
            )
    return out


def match_spans(
    gold: list[dict[str, Any]], pred: list[dict[str, Any]], *, strict: bool = False
) -> list[tuple[int, int]]:
    """Pair gold and predicted spans one-to-one within a category (largest overlap first).

    Returns:
        ``(gold_index, pred_index)`` pairs.
    """
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if g["category"] != p["category"]:
                continue
            if strict:
                if g["start"] == p["start"] and g["end"] == p["end"]:
                    candidates.append((g["end"] - g["start"], gi, pi))
            else:
                overlap = min(g["end"], p["end"]) - max(g["start"], p["start"])
                if overlap > 0:
                    candidates.append((overlap, gi, pi))
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for _, gi, pi in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gi, pi))
    return pairs


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _row(level: str, name: str, match: str, tp: int, fp: int, fn: int) -> dict[str, Any]:
    p, r, f = _prf(tp, fp, fn)
    return {
        "level": level,
        "name": name,
        "match": match,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "support": tp + fn,
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
    }


def _process(nlp: Language, items: list[dict[str, Any]], batch_size: int) -> Iterable[tuple[dict, Doc]]:
    return zip(items, nlp.pipe((it["text"] for it in items), batch_size=batch_size), strict=True)


def score_items(nlp: Language, items: list[dict[str, Any]], *, batch_size: int = 64) -> pd.DataFrame:
    """Score the pipeline on already loaded gold items (see :func:`evaluate_spans`)."""
    counts = {(c, m): [0, 0, 0] for c in CATEGORIES for m in ("lenient", "strict")}
    flags = {f: [0, 0, 0] for f in FLAGS}
    for item, doc in _process(nlp, items, batch_size):
        gold, pred = item["spans"], predicted_spans(doc)
        for match in ("lenient", "strict"):
            pairs = match_spans(gold, pred, strict=match == "strict")
            matched_g = {g for g, _ in pairs}
            matched_p = {p for _, p in pairs}
            for gi, g in enumerate(gold):
                if g["category"] in CATEGORIES:
                    counts[(g["category"], match)][0 if gi in matched_g else 2] += 1
            for pi, p in enumerate(pred):
                if pi not in matched_p and p["category"] in CATEGORIES:
                    counts[(p["category"], match)][1] += 1
            if match == "lenient":
                for gi, pi in pairs:
                    for flag in FLAGS:
                        g_on, p_on = gold[gi][flag], pred[pi][flag]
                        if g_on and p_on:
                            flags[flag][0] += 1
                        elif p_on:
                            flags[flag][1] += 1
                        elif g_on:
                            flags[flag][2] += 1
    rows = []
    for match in ("lenient", "strict"):
        for c in CATEGORIES:
            rows.append(_row("category", c, match, *counts[(c, match)]))
        micro = [sum(counts[(c, match)][k] for c in COOPTING_CATEGORIES) for k in range(3)]
        rows.append(_row("micro", "coopting", match, *micro))
        micro_all = [sum(counts[(c, match)][k] for c in CATEGORIES) for k in range(3)]
        rows.append(_row("micro", "all", match, *micro_all))
    for flag in FLAGS:
        rows.append(_row("flag", flag, "lenient", *flags[flag]))
    rows.append(_row("micro", "flags", "lenient", *[sum(flags[f][k] for f in FLAGS) for k in range(3)]))
    return pd.DataFrame(rows, columns=COLUMNS)


def evaluate_spans(
    nlp: Language,
    gold_path: str | Path,
    split: str = "test",
    *,
    batch_size: int = 64,
    language: str | None = None,
) -> pd.DataFrame:
    """Evaluate span detection and context flags on one split of the span gold.

    French is reported separately: ``evaluate_spans(load_pipeline(language="fr"),
    "corpora/gold/spans_fr.jsonl", language="fr")``.

    Args:
        nlp: A pipeline from :func:`hrdiscourse.load_pipeline`.
        gold_path: ``corpora/gold/spans.jsonl`` (``spans_fr.jsonl`` for French).
        split: ``"test"`` (held out) or ``"dev"``.
        batch_size: ``nlp.pipe`` batch size.
        language: Score only the items of this language; the pipeline must be of that
            language (``nlp.lang``), else :class:`ConfigError`.

    Returns:
        One row per (category, match) with ``level="category"``, the micro averages
        (``level="micro"``: ``coopting`` over the 13 co-opting categories, ``all``,
        ``flags``), and one row per context flag (``level="flag"``); columns ``tp, fp, fn,
        support, precision, recall, f1``.
    """
    if language is not None and getattr(nlp, "lang", language) != language:
        raise ConfigError(
            f"the pipeline is for language {nlp.lang!r} but language={language!r} was asked; "
            f"load it with load_pipeline(language={language!r})."
        )
    items = load_span_gold(gold_path, split=split, language=language)
    return score_items(nlp, items, batch_size=batch_size)


def span_errors(
    nlp: Language,
    gold_path: str | Path,
    split: str = "dev",
    *,
    batch_size: int = 64,
    language: str | None = None,
) -> pd.DataFrame:
    """List false positives/negatives and flag disagreements (lenient) for error analysis.

    Returns:
        Rows ``{item, kind ("fp"|"fn"|"flag:<name>"), category, text, gold, pred, entry_id, sentence}``.
    """
    items = load_span_gold(gold_path, split=split, language=language)
    rows = []
    for item, doc in _process(nlp, items, batch_size):
        gold, pred = item["spans"], predicted_spans(doc)
        pairs = match_spans(gold, pred)
        mg, mp = {g for g, _ in pairs}, {p for _, p in pairs}
        base = {"item": item.get("id"), "sentence": item["text"]}
        for gi, g in enumerate(gold):
            if gi not in mg:
                rows.append(
                    {**base, "kind": "fn", "category": g["category"], "text": g["text"], "entry_id": ""}
                )
        for pi, p in enumerate(pred):
            if pi not in mp:
                rows.append(
                    {
                        **base,
                        "kind": "fp",
                        "category": p["category"],
                        "text": p["text"],
                        "entry_id": p["entry_id"],
                    }
                )
        for gi, pi in pairs:
            for flag in FLAGS:
                if gold[gi][flag] != pred[pi][flag]:
                    rows.append(
                        {
                            **base,
                            "kind": f"flag:{flag}",
                            "category": gold[gi]["category"],
                            "text": gold[gi]["text"],
                            "gold": gold[gi][flag],
                            "pred": pred[pi][flag],
                            "entry_id": pred[pi]["entry_id"],
                        }
                    )
    return pd.DataFrame(rows)
