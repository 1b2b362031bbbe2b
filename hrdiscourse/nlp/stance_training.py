"""Training data, cross-validation and retraining of the passage stance model.

``python -m hrdiscourse.nlp.stance`` runs :func:`retrain`. Data (see :mod:`.stance`):

* ``gold``: every item of ``corpora/gold/spans.jsonl`` (dev and test) and
  ``corpora/gold/spans_holdout.jsonl``, ``spans_holdout2.jsonl``, ``spans_holdout3.jsonl``; a
  unit's label is 1 when a gold span in it is critical, 0 when it holds gold spans and none is
  critical;
* ``seed``: the units of the seed report (Santini, Klein, Stella & Butterfly 2020, a
  critical text) that hold a harm-reduction mention and a co-opting signal, as positives,
  minus those that overlap a gold item;
* ``docs``: the units holding a span in English *train* documents of
  ``corpora/gold/documents`` (never the ``test`` split, the label classifier's held-out
  set) in documents with a mention; weak label: the document is ``critical``;
* ``constructed``: ``corpora/gold/stance_constructed.jsonl`` if present (sentences
  written by the team, marked constructed).

Cross-validation: grouped K-fold over the gold items (the extra sources are always in the
training folds); the score is the span-level ``critical`` flag F1 over the leniently
matched spans, as ``hrdiscourse evaluate --spans`` computes it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stance import (
    STANCE_PATH,
    StanceModel,
    coarse_category,
    save_stance_model,
    stance_rows,
    stance_units,
    train_stance,
)

REPO = Path(__file__).resolve().parent.parent.parent
GOLD_FILES = (
    REPO / "corpora/gold/spans.jsonl",
    REPO / "corpora/gold/spans_holdout.jsonl",
    REPO / "corpora/gold/spans_holdout2.jsonl",
    REPO / "corpora/gold/spans_holdout3.jsonl",
)
#: Item-id prefix -> writer fold of ``out_of_fold(by_writer=True)`` (one fold per gold file).
WRITER_FOLDS = {"ho-": 1, "h2-": 2, "h3-": 3}
CONSTRUCTED = REPO / "corpora/gold/stance_constructed.jsonl"
#: Settings searched by :func:`cross_validate`.
GRID: dict[str, Sequence[Any]] = {
    "C": (3.0, 10.0),
    "w_docs": (0.0, 0.3, 0.6),
    "w_seed": (0.0, 0.5),
    "threshold": (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65),
    "combine": ("or", "model"),
    "aligned": ("rule", "model"),
}


@dataclass
class GoldItem:
    """One span-gold item analysed by the fast pipeline with the cues only."""

    id: str
    source: str
    rows: list[list[str]]
    row_labels: list[int | None]  # None: no gold span in the unit (not a training row)
    row_units: list[int]
    # per matched (gold, predicted) pair: predicted label, unit, rule decision, gold flag
    pairs: list[tuple[str, int, bool, bool]] = field(default_factory=list)


@dataclass
class Extra:
    """Rows of a non-gold source with labels and a group name."""

    source: str
    rows: list[list[str]]
    labels: list[int]
    groups: list[str]


def _context(nlp: Any) -> Any:
    return nlp.get_pipe("hrd_context")


def _analyse(nlp: Any, texts: Sequence[str]) -> list[tuple[Any, Any]]:
    """Docs with cue-only flags, and the rows of their units holding spans."""
    ctx = _context(nlp)
    saved, ctx.stance = ctx.stance, None
    try:
        out = []
        for doc in nlp.pipe(texts, batch_size=64):
            targets = list(doc.spans[ctx.mentions_key]) + list(doc.spans[ctx.signals_key])
            units = stance_units(doc)
            out.append((doc, units, targets, stance_rows(doc, units, targets, ctx._match_cues(doc))))
        return out
    finally:
        ctx.stance = saved


def gold_items(nlp: Any, files: Sequence[Path] = GOLD_FILES) -> list[GoldItem]:
    """Analyse every English span-gold item (rows, unit labels, matched span pairs)."""
    from ..evaluation import load_span_gold, match_spans, predicted_spans

    items = [it for f in files for it in load_span_gold(f, split=None, language="en")]
    analysed = _analyse(nlp, [it["text"] for it in items])
    out = []
    for item, (doc, units, targets, built) in zip(items, analysed, strict=True):
        starts_char = [doc[a].idx for a, _ in units]
        import bisect

        def unit_at(char: int, starts_char: list[int] = starts_char) -> int:
            return max(0, bisect.bisect_right(starts_char, char) - 1)

        gold_units: dict[int, int] = {}
        for g in item["spans"]:
            u = unit_at(g["start"])
            gold_units[u] = max(gold_units.get(u, 0), int(g["critical"]))
        # add rows for units that hold gold spans but no predicted span
        rows, units_of_rows = list(built.rows), list(built.units)
        missing = sorted(set(gold_units) - set(units_of_rows))
        if missing:
            # features of a unit without predicted spans: its text and its neighbours only
            for u in missing:
                a, b = units[u]
                ctx_text = " ".join(
                    doc[units[v][0] : units[v][1]].text for v in (u - 1, u + 1) if 0 <= v < len(units)
                )
                words = " ".join('"' if t.text in '"“”‘’«»' else t.lower_ for t in doc[a:b])
                rows.append([doc[a:b].text, ctx_text, words, "_none"])
                units_of_rows.append(u)
        labels = [gold_units.get(u) for u in units_of_rows]
        pred = predicted_spans(doc)
        # predicted_spans lists the mentions then the signals, as ``targets``
        pairs = [
            (targets[pi].label_, built.unit_of_span[pi], pred[pi]["critical"], item["spans"][gi]["critical"])
            for gi, pi in match_spans(item["spans"], pred)
        ]
        out.append(
            GoldItem(
                id=str(item["id"]),
                source=Path(item.get("_file", "")).name or str(item.get("split")),
                rows=rows,
                row_labels=labels,
                row_units=units_of_rows,
                pairs=pairs,
            )
        )
    return out


def seed_rows(nlp: Any, gold_texts: Sequence[str]) -> Extra:
    """Units of the seed report with a harm-reduction mention and a co-opting signal (positives)."""
    from ..classify import _default_seed_path

    path = _default_seed_path()
    if path is None:
        return Extra("seed", [], [], [])
    text = path.read_text(encoding="utf-8")
    norm_gold = [" ".join(t.split()).lower() for t in gold_texts]
    ((doc, units, targets, built),) = _analyse(nlp, [text])
    rows, labels, groups = [], [], []
    cats: dict[int, set[str]] = {}
    for s, u in zip(targets, built.unit_of_span, strict=True):
        cats.setdefault(u, set()).add(coarse_category(s.label_))
    for row, u in zip(built.rows, built.units, strict=True):
        if not {"hr", "coopt"} <= cats.get(u, set()):
            continue
        sent = " ".join(row[0].split()).lower()
        if any(sent[:60] in g or g[:60] in sent for g in norm_gold):
            continue  # the gold already holds this sentence
        rows.append(row)
        labels.append(1)
        groups.append(f"seed-{u}")
    return Extra("seed", rows, labels, groups)


def document_rows(nlp: Any) -> Extra:
    """Units with spans in English train-split gold documents with a mention (weak labels)."""
    from ..classify import load_gold_documents

    docs = load_gold_documents(REPO / "corpora/gold/documents", split="train", language="en")
    analysed = _analyse(nlp, [d.text for d in docs])
    rows, labels, groups = [], [], []
    for d, (_doc, _units, targets, built) in zip(docs, analysed, strict=True):
        if not any(s.label_ == "HARM_REDUCTION" for s in targets):
            continue
        for row in built.rows:
            rows.append(row)
            labels.append(int(d.label == "critical"))
            groups.append(d.id)
    return Extra("docs", rows, labels, groups)


def constructed_rows(nlp: Any) -> Extra:
    """Sentences written by the team (``stance_constructed.jsonl``: text, critical)."""
    if not CONSTRUCTED.is_file():
        return Extra("constructed", [], [], [])
    items = [
        json.loads(line) for line in CONSTRUCTED.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    analysed = _analyse(nlp, [it["text"] for it in items])
    rows, labels, groups = [], [], []
    for it, (_doc, _units, _targets, built) in zip(items, analysed, strict=True):
        for row in built.rows:
            rows.append(row)
            labels.append(int(bool(it["critical"])))
            groups.append(str(it["id"]))
    return Extra("constructed", rows, labels, groups)


def _training_set(
    items: Sequence[GoldItem], extras: dict[str, Extra], weights: dict[str, float]
) -> tuple[list[list[str]], list[int], list[float]]:
    rows, labels, w = [], [], []
    for it in items:
        for row, lab in zip(it.rows, it.row_labels, strict=True):
            if lab is not None:
                rows.append(row)
                labels.append(lab)
                w.append(1.0)
    for name, extra in extras.items():
        wt = weights.get(name, 0.0)
        if wt <= 0:
            continue
        rows += extra.rows
        labels += extra.labels
        w += [wt] * len(extra.labels)
    return rows, labels, w


def score_pairs(
    items: Sequence[GoldItem], proba: dict[str, dict[int, float]], model: StanceModel | None
) -> tuple[int, int, int]:
    """Span-level (tp, fp, fn) of the critical flag; ``model`` None scores the rules."""
    tp = fp = fn = 0
    for it in items:
        for label, unit, rule, gold in it.pairs:
            pred = rule if model is None else model.decide(label, rule, proba[it.id].get(unit, 0.0))
            tp += pred and gold
            fp += pred and not gold
            fn += gold and not pred
    return tp, fp, fn


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def out_of_fold(
    items: Sequence[GoldItem],
    extras: dict[str, Extra],
    *,
    C: float,
    weights: dict[str, float],
    folds: int = 5,
    by_writer: bool = False,
) -> dict[str, dict[int, float]]:
    """Out-of-fold unit probabilities of every gold item.

    Grouped K-fold over items, or (``by_writer``) one fold per gold file, each written
    independently (``spans.jsonl``, ``spans_holdout.jsonl``, ``spans_holdout2.jsonl``,
    ``spans_holdout3.jsonl``): trained on the other files and scored on it, the estimate
    closest to a new blind holdout.
    """
    order = list(range(len(items)))
    random.Random(13).shuffle(order)
    if by_writer:
        folds = len(WRITER_FOLDS) + 1
        fold_of = {
            it.id: next((k for p, k in WRITER_FOLDS.items() if it.id.startswith(p)), 0) for it in items
        }
    else:
        fold_of = {items[i].id: k % folds for k, i in enumerate(order)}
    proba: dict[str, dict[int, float]] = {}
    for k in range(folds):
        train = [it for it in items if fold_of[it.id] != k]
        test = [it for it in items if fold_of[it.id] == k]
        rows, labels, w = _training_set(train, extras, weights)
        model = train_stance(rows, labels, weights=w, C=C)
        for it in test:
            ps = model.predict_proba(it.rows)
            proba[it.id] = dict(zip(it.row_units, ps, strict=True))
    return proba


def cross_validate(
    items: Sequence[GoldItem], extras: dict[str, Extra], grid: dict[str, Sequence[Any]] = GRID
) -> list[dict[str, Any]]:
    """Score every grid setting by out-of-fold critical F1, grouped 5-fold and by writer (best mean first)."""
    results = []
    for C in grid["C"]:
        for w_docs in grid["w_docs"]:
            for w_seed in grid["w_seed"]:
                weights = {"docs": w_docs, "seed": w_seed, "constructed": 1.0}
                proba = out_of_fold(items, extras, C=C, weights=weights)
                writer = out_of_fold(items, extras, C=C, weights=weights, by_writer=True)
                for thr in grid["threshold"]:
                    for combine in grid["combine"]:
                        for aligned in grid["aligned"]:
                            meta = {"threshold": thr, "combine": combine, "aligned": aligned}
                            tp, fp, fn = score_pairs(items, proba, StanceModel(None, meta))
                            f1 = _f1(tp, fp, fn)
                            f1_writer = _f1(*score_pairs(items, writer, StanceModel(None, meta)))
                            results.append(
                                {
                                    "C": C,
                                    "w_docs": w_docs,
                                    "w_seed": w_seed,
                                    **meta,
                                    "tp": tp,
                                    "fp": fp,
                                    "fn": fn,
                                    "f1": round(f1, 4),
                                    "f1_by_writer": round(f1_writer, 4),
                                    "score": round((f1 + f1_writer) / 2, 4),
                                }
                            )
    return sorted(results, key=lambda r: -r["score"])


def retrain(
    *, out: Path = STANCE_PATH, cv: bool = True, settings: dict[str, Any] | None = None
) -> StanceModel:
    """Cross-validate and write the model (``cv`` False: ``settings`` or the shipped sidecar's)."""
    from .pipeline import load_pipeline

    nlp = load_pipeline(mode="fast")
    items = gold_items(nlp)
    extras = {
        "seed": seed_rows(nlp, [it["text"] for f in GOLD_FILES for it in _raw(f)]),
        "docs": document_rows(nlp),
        "constructed": constructed_rows(nlp),
    }
    rules = score_pairs(items, {}, None)
    meta: dict[str, Any] = {"cv_rules_only_critical_f1": round(_f1(*rules), 4)}
    if cv:
        table = cross_validate(items, extras)
        best = table[0]
        print(
            "cross-validation (out-of-fold critical flag F1 over matched gold spans: 5-fold grouped "
            "by item, and by writer; score = their mean), top 10:"
        )
        for row in table[:10]:
            print(json.dumps(row))
        print(f"rules only: tp/fp/fn {rules} F1 {_f1(*rules):.4f}")
        chosen = {k: best[k] for k in ("C", "w_docs", "w_seed", "threshold", "combine", "aligned")}
        meta["cv_critical_f1"] = best["f1"]
        meta["cv_critical_f1_by_writer"] = best["f1_by_writer"]
        meta["cv_folds"] = 5
    else:
        chosen = settings or _shipped_settings()
    weights = {"docs": chosen["w_docs"], "seed": chosen["w_seed"], "constructed": 1.0}
    rows, labels, w = _training_set(items, extras, weights)
    meta.update(chosen)
    meta["sources"] = {
        "gold_items": len(items),
        **{name: len(e.labels) if weights.get(name, 0) > 0 else 0 for name, e in extras.items()},
    }
    model = train_stance(rows, labels, weights=w, C=float(chosen["C"]), meta=meta)
    paths = save_stance_model(model, out)
    print(f"trained on {len(labels)} units; wrote {', '.join(str(p) for p in paths)}")
    return model


def _raw(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _shipped_settings() -> dict[str, Any]:
    sidecar = STANCE_PATH.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    return {k: meta[k] for k in ("C", "w_docs", "w_seed", "threshold", "combine", "aligned")}
