"""Passage-level critical stance: a small learned model behind ``Span._.hrd_critical``.

The gold guidelines define ``critical`` as a stance of the passage: the text names and
rejects a co-optation ("an exit fund relabelled as harm reduction is still an exit fund"),
often without any fixed cue word. The ConText cues of ``hrd_context`` find the explicit
forms ("incompatible with", "under the banner of"); this module adds a logistic
regression over the *stance unit* (a sentence) that holds a span and its neighbours:

* ``sent``: the unit's words (word 1-2-grams) and characters (char 2-5-grams);
* ``abs``: the unit with every span replaced by its coarse category (``__hr``,
  ``__coopt``, ``__aligned``, ``__ext``), so that "__coopt relabelled as __hr" is learnt
  whatever the signal words are;
* ``ctx``: the words of the previous and next units;
* ``cues``: the ConText cues in the unit and its neighbours (labels, strong/weak
  critical) and the rule layer's own decision (``rule_crit``).

Stance units are the sentencizer's sentences whatever the pipeline (the parser's
sentences differ between fast and full mode; these do not), so a span gets the same
stance in ``fast``, ``full`` and the two-pass default mode. The model runs only in
documents with a harm-reduction mention, on the units that hold a span, one batch per
document; it is English-only (other languages keep the rules).

Training data (``python -m hrdiscourse.nlp.stance``, see :func:`main`): every item of the
span gold (``corpora/gold/spans.jsonl``, ``spans_holdout.jsonl``, ``spans_holdout2.jsonl``;
unit label = a gold span in it is critical), optionally the units of the seed report holding a harm-reduction
mention and a co-opting signal (positives; Santini, Klein, Stella & Butterfly 2020) and the
units holding spans in the *train* split of ``corpora/gold/documents`` (weak labels: the
document label is ``critical`` or not). The weights of these sources, ``C``, the threshold
and how the model combines with the rules are chosen by grouped cross-validation over the
span gold items; the numbers are in the sidecar ``stance_model.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from spacy.attrs import LOWER, ORTH
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

from ..errors import HRDiscourseWarning, ModelError
from .extensions import doc_text
from .sentencizer import ArraySentencizer

#: Bump when the features or the file layout change.
STANCE_VERSION = "1.0.0"
STANCE_PATH = Path(__file__).resolve().parent.parent / "models" / "stance_model.skops"
#: The component scores units within this many units of a harm-reduction mention (the
#: linker's default window, the two-pass core): spans further away keep the cue decision.
STANCE_REACH = 2
#: Columns of a feature row, in order.
COLUMNS: tuple[str, ...] = ("sent", "ctx", "abs", "cues")
_QUOTES = frozenset({'"', "“", "”", "‘", "’", "«", "»", "'"})
_QUOTE_IDS = frozenset(map(get_string_id, _QUOTES))
_SENTENCIZER = ArraySentencizer()  # spaCy's sentencizer rule, vectorised


def coarse_category(label: str) -> str:
    """``HARM_REDUCTION`` -> hr, ``ALIGNED_*`` -> aligned, ``EXTENSION_*`` -> ext, else coopt."""
    if label == "HARM_REDUCTION":
        return "hr"
    if label.startswith("ALIGNED_"):
        return "aligned"
    if label.startswith("EXTENSION_"):
        return "ext"
    return "coopt"


def stance_units(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of the sentencizer's sentences of ``doc`` (whatever sentences it has)."""
    if not len(doc):
        return []
    starts = np.flatnonzero(_SENTENCIZER.predicted_starts(doc)).tolist()
    return [(a, b) for a, b in zip(starts, [*starts[1:], len(doc)], strict=True)]


def _unit_of(starts: list[int], token: int) -> int:
    import bisect

    return bisect.bisect_right(starts, token) - 1


def _underscore_flag(span: Span, name: str) -> Any:
    return getattr(span._, name)


@dataclass
class StanceRows:
    """Feature rows of one document: one per stance unit that holds a span."""

    rows: list[list[str]]
    units: list[int]  # the unit index of each row
    unit_of_span: list[int]  # for every target span, its unit index


def stance_rows(
    doc: Doc,
    units: list[tuple[int, int]],
    targets: Sequence[Span],
    cues: Iterable[Any],
    *,
    reach: int | None = None,
    flags: Callable[[Span, str], Any] | None = None,
) -> StanceRows:
    """Build the feature rows of the units of ``doc`` that hold one of ``targets``.

    Args:
        doc: The document (context flags of the rule layer already set on ``targets``).
        units: :func:`stance_units` of ``doc``.
        targets: Harm-reduction mentions and signals.
        cues: The ConText cues matched in ``doc`` (objects with ``label``, ``scope``,
            ``start``).
        reach: Only the units within this many units of one holding a harm-reduction
            mention get a row (None: every unit with a span).
        flags: Reads a span's flag by name (``hrd_negated``...), when the caller has a
            quicker way than ``span._`` (None: ``getattr(span._, name)``).
    """
    if flags is None:
        flags = _underscore_flag
    strings = doc.vocab.strings
    starts = [a for a, _ in units]
    unit_of_span = [_unit_of(starts, s.start) for s in targets]
    by_unit: dict[int, list[Span]] = {}
    for span, u in zip(targets, unit_of_span, strict=True):
        by_unit.setdefault(u, []).append(span)
    cue_feats: dict[int, list[str]] = {}
    strong_units: set[int] = set()
    for cue in cues:
        if cue.label in ("TERMINATION", "PSEUDO"):
            continue
        u = _unit_of(starts, cue.start)
        name = cue.label
        if cue.label == "CRITICAL":
            strong = cue.scope is None
            name = "CRITICAL_strong" if strong else "CRITICAL_weak"
            if strong:
                strong_units.add(u)
        cue_feats.setdefault(u, []).append(name)
    hr_units = {u for u, spans in by_unit.items() for s in spans if s.label_ == "HARM_REDUCTION"}
    rows: list[list[str]] = []
    row_units = [u for u in sorted(by_unit) if reach is None or any(abs(u - h) <= reach for h in hr_units)]
    if not row_units:
        return StanceRows(rows, row_units, unit_of_span)
    text = doc_text(doc)
    # Token texts as ints (no Token object per token): ORTH is the hash of the text.
    orths, lowers = doc.to_array([ORTH, LOWER]).T.tolist()
    unit_texts: dict[int, str] = {}

    def unit_text(v: int) -> str:
        """``doc[a:b].text`` of unit ``v``, sliced from the doc's text (the same string)."""
        if v not in unit_texts:
            a, b = units[v]
            last = doc[b - 1]
            unit_texts[v] = text[doc[a].idx : last.idx + len(last)]
        return unit_texts[v]

    for u in row_units:
        a, b = units[u]
        spans = by_unit[u]
        sent = unit_text(u)
        ctx = " ".join(unit_text(v) for v in (u - 1, u + 1) if 0 <= v < len(units))
        begin = {}
        for s in sorted(spans, key=lambda s: (s.start, -len(s))):
            begin.setdefault(s.start, s)
        words: list[str] = []
        i = a
        while i < b:
            span = begin.get(i)
            if span is not None:
                words.append("__" + coarse_category(span.label_))
                i = max(i + 1, span.end)
                continue
            words.append('"' if orths[i] in _QUOTE_IDS else strings[lowers[i]])
            i += 1
        feats = list(cue_feats.get(u, []))
        feats += ["ctx_CRITICAL_strong" for v in (u - 1, u + 1) if v in strong_units]
        feats += ["hr_in_ctx" for v in (u - 1, u + 1) if v in hr_units]
        for s in spans:
            cat = coarse_category(s.label_)
            feats.append(f"span_{cat}")
            for flag in ("negated", "hedged", "quoted"):
                if flags(s, f"hrd_{flag}"):
                    feats.append(f"{cat}_{flag}")
            if flags(s, "hrd_critical"):
                feats.append("rule_crit" if cat != "aligned" else "rule_crit_aligned")
        rows.append([sent, ctx, " ".join(words), " ".join(feats) or "_none"])
    return StanceRows(rows, row_units, unit_of_span)


# ---------------------------------------------------------------------- model
def make_pipeline(*, C: float = 1.0) -> Any:
    """The untrained stance classifier: TF-IDF views of a row, then logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=20000),
                0,
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=20000
                ),
                0,
            ),
            ("context", TfidfVectorizer(min_df=2, sublinear_tf=True), 1),
            (
                "abstract",
                TfidfVectorizer(
                    ngram_range=(1, 3), min_df=2, sublinear_tf=True, token_pattern=r"\S+", max_features=20000
                ),
                2,
            ),
            ("cues", CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True), 3),
        ]
    )
    clf = LogisticRegression(class_weight="balanced", C=C, max_iter=5000)
    return Pipeline([("features", features), ("clf", clf)])


def _as_array(rows: Sequence[Sequence[str]]) -> Any:
    arr = np.empty((len(rows), len(COLUMNS)), dtype=object)
    for i, row in enumerate(rows):
        arr[i] = row
    return arr


#: Words whose character n-gram ids :class:`_CharWbCounts` keeps (then it starts afresh).
CHAR_CACHE_WORDS = 200_000


class _CharWbCounts:
    """The count matrix of a fitted ``char_wb`` vectorizer, its n-grams cached per word.

    ``char_wb`` n-grams never cross a word boundary, so a word's n-gram ids are the same
    wherever it occurs: they are computed once (with the vectorizer's own n-gram function)
    and then only looked up. The matrix is built as ``CountVectorizer._count_vocab``
    builds it (same counts, index types and sorted indices), so the TF-IDF step on top of it
    gives the same floats (``tests/test_stance.py`` compares them).
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.preprocess = vectorizer.build_preprocessor()
        self.vocabulary = vectorizer.vocabulary_
        self.cache: dict[str, tuple[int, ...]] = {}

    def _ids(self, word: str) -> tuple[int, ...]:
        ids = self.cache.get(word)
        if ids is None:
            if len(self.cache) >= CHAR_CACHE_WORDS:
                self.cache.clear()
            vocab = self.vocabulary
            grams = self.vectorizer._char_wb_ngrams(word)
            ids = self.cache[word] = tuple(vocab[g] for g in grams if g in vocab)
        return ids

    def transform(self, docs: Sequence[str]) -> Any:
        import scipy.sparse as sp

        vec = self.vectorizer
        cache = self.cache
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in docs:
            grams = []
            for word in self.preprocess(vec.decode(doc)).split():
                ids = cache.get(word)
                grams.append(ids if ids is not None else self._ids(word))
            # Counted in C; keys in first-seen order, as the n-grams' dict in _count_vocab.
            counts = Counter(chain.from_iterable(grams))
            indices.extend(counts)
            values.extend(counts.values())
            indptr.append(len(indices))
        X = sp.csr_matrix(
            (
                np.asarray(values, dtype=np.intc),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(docs), len(self.vocabulary)),
            dtype=vec.dtype,
        )
        X.sort_indices()
        if vec.binary:
            X.data.fill(1)
        return vec._tfidf.transform(X, copy=False)


def _direct_features(pipeline: Any) -> list[tuple[int, Any]] | None:
    """``(column, transform)`` of the feature union when :meth:`StanceModel.predict_proba` may
    call the fitted transformers itself (``char_wb`` ones through :class:`_CharWbCounts`),
    stacked with the ColumnTransformer's own ``_hstack``; None to use the pipeline as it is."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ct = pipeline.named_steps.get("features") if hasattr(pipeline, "named_steps") else None
    fitted = [t for t in getattr(ct, "transformers_", []) if not (isinstance(t[1], str) and t[1] == "drop")]
    if (
        ct is None
        or len(pipeline.steps) != 2
        or not getattr(ct, "sparse_output_", False)
        or not hasattr(ct, "_hstack")
        or getattr(ct, "remainder", None) != "drop"
        or any(isinstance(t, str) or not isinstance(col, int) for _, t, col in fitted)
    ):
        return None
    out: list[tuple[int, Any]] = []
    for _, t, col in fitted:
        plain_char_wb = (
            type(t) is TfidfVectorizer
            and t.analyzer == "char_wb"
            and t.preprocessor is None
            and t.input == "content"
        )
        out.append((col, _CharWbCounts(t).transform if plain_char_wb else t.transform))
    return out


@dataclass
class StanceModel:
    """A trained stance classifier, its decision settings and metadata (the JSON sidecar).

    ``meta["threshold"]``: probability from which a unit is critical; ``meta["combine"]``:
    ``"or"`` (critical when the rules or the model say so) or ``"model"`` (the model
    decides; the rules' decision is one of its features); ``meta["aligned"]``: ``"rule"``
    (aligned-principle spans keep the rule decision) or ``"model"``.
    """

    pipeline: Any
    meta: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", 0.5))

    def __post_init__(self) -> None:
        self._direct: list[tuple[int, Any]] | None = None
        self._direct_checked = False  # decided on the first prediction (the pipeline is fitted)

    def predict_proba(self, rows: Sequence[Sequence[str]]) -> list[float]:
        """Probability that each row's unit is critical.

        The features are the pipeline's own (same matrix), computed without the
        ColumnTransformer's dispatch and with the character n-grams cached per word.
        """
        if not rows:
            return []
        if not self._direct_checked:
            self._direct, self._direct_checked = _direct_features(self.pipeline), True
        if self._direct is None:
            proba = self.pipeline.predict_proba(_as_array(rows))
        else:
            blocks = [transform([row[col] for row in rows]) for col, transform in self._direct]
            X = self.pipeline.named_steps["features"]._hstack(blocks, n_samples=len(rows))
            proba = self.pipeline.steps[-1][1].predict_proba(X)
        pos = list(self.pipeline.classes_).index(1)
        return [float(p[pos]) for p in proba]

    def decide(self, label: str, rule: bool, proba: float) -> bool:
        """The critical flag of a span of ``label`` from the rule decision and its unit's probability."""
        model = proba >= self.threshold
        if label.startswith("ALIGNED_") and self.meta.get("aligned", "rule") == "rule":
            return rule
        if self.meta.get("combine", "or") == "or":
            return rule or model
        return model


def train_stance(
    rows: Sequence[Sequence[str]],
    labels: Sequence[int],
    *,
    weights: Sequence[float] | None = None,
    C: float = 1.0,
    meta: dict[str, Any] | None = None,
) -> StanceModel:
    """Fit the stance classifier on feature rows and 0/1 labels."""
    import sklearn

    pipeline = make_pipeline(C=C)
    fit_params = {"clf__sample_weight": list(weights)} if weights is not None else {}
    pipeline.fit(_as_array(rows), list(labels), **fit_params)
    for _, vec, _ in pipeline.named_steps["features"].transformers_:
        if hasattr(vec, "stop_words_"):
            del vec.stop_words_
        if hasattr(vec, "vocabulary_"):  # numpy ints would be stored one file each by skops
            vec.vocabulary_ = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    h = hashlib.sha256()
    for row, lab in zip(rows, labels, strict=True):
        h.update(("\x1f".join(row) + f"\x1e{lab}").encode("utf-8"))
    full_meta: dict[str, Any] = {
        "stance_version": STANCE_VERSION,
        "sklearn": sklearn.__version__,
        "C": C,
        "n_train": len(labels),
        "label_counts": {str(k): v for k, v in sorted(Counter(int(x) for x in labels).items())},
        "training_data_sha256": h.hexdigest(),
        "threshold": 0.5,
        "combine": "or",
        "aligned": "rule",
    }
    full_meta.update(meta or {})
    return StanceModel(pipeline, full_meta)


def save_stance_model(model: StanceModel, path: str | Path = STANCE_PATH) -> list[Path]:
    """Write the model with skops (never pickle) and its JSON sidecar; return both paths."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model.pipeline, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps(model.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [path, sidecar]


_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def _load_pipeline_bytes(data: bytes, where: str) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    bad = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if bad:
        raise ModelError(f"{where}: stance model holds untrusted types {bad}; retrain it.")
    return sio.loads(data, trusted=untrusted)


def stance_from_bytes(data: bytes, meta: dict[str, Any], where: str = "stance model") -> StanceModel:
    """Rebuild a :class:`StanceModel` from skops bytes and its metadata."""
    try:
        pipeline = _load_pipeline_bytes(data, where)
    except ModelError:
        raise
    except Exception as exc:  # skops raises a variety of errors on corrupt files
        raise ModelError(f"{where}: cannot load the stance model ({exc}).") from exc
    return StanceModel(pipeline, dict(meta))


def stance_to_bytes(model: StanceModel) -> bytes:
    """The skops bytes of the model's pipeline."""
    import skops.io as sio

    return sio.dumps(model.pipeline, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def load_stance_model(path: str | Path = STANCE_PATH) -> StanceModel:
    """Load a model written by :func:`save_stance_model` (warns on a version mismatch).

    Raises:
        ModelError: the file or its sidecar is missing or unreadable.
    """
    import sklearn

    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not path.is_file() or not sidecar.is_file():
        raise ModelError(
            f"{path}: stance model or its sidecar {sidecar.name} not found; run `hrdiscourse train --stance`."
        )
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    model = stance_from_bytes(path.read_bytes(), meta, str(path))
    diffs = []
    if meta.get("stance_version") != STANCE_VERSION:
        diffs.append(f"stance version {meta.get('stance_version')} (code expects {STANCE_VERSION})")
    if meta.get("sklearn") != sklearn.__version__:
        diffs.append(f"scikit-learn {meta.get('sklearn')} (installed {sklearn.__version__})")
    if diffs:
        warnings.warn(
            f"{path.name} was trained with " + "; ".join(diffs) + ". Retrain it with "
            "`hrdiscourse train --stance`.",
            HRDiscourseWarning,
            stacklevel=2,
        )
    return model


_SHIPPED: dict[str, StanceModel | None] = {}


def shipped_stance_model() -> StanceModel | None:
    """The shipped English stance model (loaded once), or None with a warning."""
    if "en" not in _SHIPPED:
        try:
            _SHIPPED["en"] = load_stance_model(STANCE_PATH)
        except ModelError as exc:
            warnings.warn(f"{exc} Critical flags come from the cues only.", HRDiscourseWarning, stacklevel=2)
            _SHIPPED["en"] = None
    return _SHIPPED["en"]


def main(argv: list[str] | None = None) -> None:
    """``python -m hrdiscourse.nlp.stance``: cross-validate and retrain the stance model."""
    from .stance_training import retrain

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=STANCE_PATH, help="Model file to write.")
    parser.add_argument("--no-cv", action="store_true", help="Keep the settings of the shipped sidecar.")
    args = parser.parse_args(argv)
    retrain(out=args.out, cv=not args.no_cv)


if __name__ == "__main__":
    main()
