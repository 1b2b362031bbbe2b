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
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

import numpy as np
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


def _underscore_flag(span: Span, name: str) -> Any:
    return getattr(span._, name)


_HARM_REDUCTION = get_string_id("HARM_REDUCTION")
_FLAG_FEATURES = (("hrd_negated", "_negated"), ("hrd_hedged", "_hedged"), ("hrd_quoted", "_quoted"))
_CATEGORIES: dict[int, str] = {}  # span label (hash) -> coarse_category


def _category(span: Span) -> str:
    """``coarse_category(span.label_)``, without looking the label's string up every time."""
    cat = _CATEGORIES.get(span.label)
    if cat is None:
        cat = _CATEGORIES[span.label] = coarse_category(span.label_)
    return cat


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
    starts = [a for a, _ in units]
    unit_of_span = [bisect_right(starts, s.start) - 1 for s in targets]
    by_unit: dict[int, list[Span]] = {}
    for span, u in zip(targets, unit_of_span, strict=True):
        by_unit.setdefault(u, []).append(span)
    cue_feats: dict[int, list[str]] = {}
    strong_units: set[int] = set()
    for cue in cues:
        if cue.label in ("TERMINATION", "PSEUDO"):
            continue
        u = bisect_right(starts, cue.start) - 1
        name = cue.label
        if cue.label == "CRITICAL":
            strong = cue.scope is None
            name = "CRITICAL_strong" if strong else "CRITICAL_weak"
            if strong:
                strong_units.add(u)
        cue_feats.setdefault(u, []).append(name)
    hr_units = {u for u, spans in by_unit.items() for s in spans if s.label == _HARM_REDUCTION}
    rows: list[list[str]] = []
    row_units = [u for u in sorted(by_unit) if reach is None or any(abs(u - h) <= reach for h in hr_units)]
    if not row_units:
        return StanceRows(rows, row_units, unit_of_span)
    text = doc_text(doc)
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
        # The unit's words, read from its tokens only (the rows cover a small part of a
        # long document); then every span replaced by its category, the longest of those
        # starting at a token, a span starting inside a replaced one left out.
        tokens = ['"' if t.orth in _QUOTE_IDS else t.lower_ for t in doc[a:b]]
        words: list[str] = []
        i = a
        for s in sorted(spans, key=lambda s: (s.start, -len(s))):
            if s.start < i:
                continue
            words += tokens[i - a : s.start - a]
            words.append("__" + _category(s))
            i = max(s.start + 1, s.end)
        words += tokens[i - a :]
        feats = list(cue_feats.get(u, []))
        feats += ["ctx_CRITICAL_strong" for v in (u - 1, u + 1) if v in strong_units]
        feats += ["hr_in_ctx" for v in (u - 1, u + 1) if v in hr_units]
        for s in spans:
            cat = _category(s)
            feats.append("span_" + cat)
            for flag, suffix in _FLAG_FEATURES:
                if flags(s, flag):
                    feats.append(cat + suffix)
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


#: Words whose character n-gram ids :class:`_CharWbGrams` keeps (then it starts afresh).
CHAR_CACHE_WORDS = 200_000
_WORD_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default token_pattern
_SPLIT_PATTERN = r"\S+"
#: ``bytes.translate`` table: ASCII word characters (``\w``: letters, digits, ``_``) stay,
#: every other byte becomes a space.
_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(128)) + b" " * 128


class _WordGrams:
    """Vocabulary ids of the word n-grams of a fitted ``analyzer="word"`` vectorizer.

    The same n-grams as the vectorizer's analyzer, in another order (the counts are sorted
    by column afterwards, as ``CountVectorizer._count_vocab`` sorts them):

    * tokens: ``token_pattern`` ``(?u)\\b\\w\\w+\\b`` finds the maximal runs of two or more
      word characters, so an ASCII text is tokenized by turning every other byte into a
      space and splitting (much quicker than the regex; other texts use the regex itself);
      ``\\S+`` finds what ``str.split()`` finds (both split on ``str.isspace`` characters);
    * n-grams of two or more tokens are looked up as tuples of tokens (a dict built once):
      tokens never hold a space, so ``" ".join`` maps the tuples one to one onto the
      vocabulary's strings, and a tuple hashes from its tokens' cached hashes instead of a new
      string's characters;
    * every n-gram is looked up by ``map`` (-1 when it is not in the vocabulary, dropped
      later by numpy), so that no Python code runs per n-gram.
    """

    def __init__(self, vectorizer: Any) -> None:
        self.lowercase = bool(vectorizer.lowercase)
        self.split = vectorizer.token_pattern == _SPLIT_PATTERN
        self.findall = vectorizer.build_tokenizer()
        self.ngrams = range(vectorizer.ngram_range[0], vectorizer.ngram_range[1] + 1)
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.tuples: dict[tuple[str, ...], int] = (
            {tuple(gram.split(" ")): i for gram, i in self.vocabulary.items() if " " in gram}
            if self.ngrams.stop > 2
            else {}
        )
        # One-character words only miss the vocabulary of a unigram vectorizer fitted with
        # the default pattern: they need not be removed first.
        self.short_words_miss = self.ngrams == range(1, 2) and not any(
            len(gram) < 2 for gram in self.vocabulary
        )

    @staticmethod
    def supports(vectorizer: Any) -> bool:
        min_n, max_n = vectorizer.ngram_range
        return (
            vectorizer.analyzer == "word"
            and vectorizer.token_pattern in (_WORD_PATTERN, _SPLIT_PATTERN)
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
            and 1 <= min_n <= max_n
        )

    def ids(self, docs: list[str]) -> tuple[Any, Any]:
        """The n-gram ids of ``docs`` (-1: not in the vocabulary) and how many per doc."""
        out: list[int] = []
        ends = []
        get, get_tuple, miss = self.vocabulary.get, self.tuples.get, repeat(-1)
        findall, lowercase, split, keep_short = (
            self.findall,
            self.lowercase,
            self.split,
            self.short_words_miss,
        )
        ngrams = self.ngrams
        for doc in docs:
            if lowercase:
                doc = doc.lower()
            if split:
                tokens = doc.split()
            elif doc.isascii():
                tokens = doc.encode().translate(_ASCII_WORDS).decode().split()
                if not keep_short:
                    tokens = [w for w in tokens if len(w) > 1]
            else:
                tokens = findall(doc)
            for n in ngrams:
                if n == 1:
                    out += map(get, tokens, miss)
                elif n == 2:
                    out += map(get_tuple, pairwise(tokens), miss)
                else:
                    out += map(get_tuple, zip(*[tokens[i:] for i in range(n)], strict=False), miss)
            ends.append(len(out))
        return np.fromiter(out, dtype=np.intc, count=len(out)), np.diff(ends, prepend=0)


class _CharWbGrams:
    """Vocabulary ids of the ``char_wb`` n-grams of a fitted vectorizer, cached per word.

    ``char_wb`` n-grams never cross a word boundary, so a word's n-gram ids are the same
    wherever it occurs: they are computed once (with the vectorizer's own n-gram function)
    and then only looked up, kept as the bytes of C ints so that a row is one ``bytes.join``.
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.lowercase = bool(vectorizer.lowercase)
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.cache: dict[str, bytes] = {}

    @staticmethod
    def supports(vectorizer: Any) -> bool:
        return vectorizer.analyzer == "char_wb"

    def _word(self, word: str) -> bytes:
        if len(self.cache) >= CHAR_CACHE_WORDS:
            self.cache.clear()
        vocab = self.vocabulary
        ids = [vocab[g] for g in self.vectorizer._char_wb_ngrams(word) if g in vocab]
        out = self.cache[word] = np.asarray(ids, dtype=np.intc).tobytes()
        return out

    def ids(self, docs: list[str]) -> tuple[Any, Any]:
        """The n-gram ids of ``docs`` and how many per doc."""
        get, word = self.cache.get, self._word
        lowercase = self.lowercase
        blobs = [
            b"".join(
                [
                    b if (b := get(w)) is not None else word(w)
                    for w in (doc.lower() if lowercase else doc).split()
                ]
            )
            for doc in docs
        ]
        return np.frombuffer(b"".join(blobs), dtype=np.intc), [len(b) // 4 for b in blobs]


class _StanceFeatures:
    """The feature matrix of a fitted stance ColumnTransformer, built in one pass.

    ``ColumnTransformer.transform`` counts each vectorizer's n-grams in Python one at a
    time, validates every intermediate matrix and stacks them. Here the n-gram ids of all
    vectorizers, shifted to their columns in the stacked matrix, are counted by one sort and
    weighted with the operations of ``TfidfTransformer.transform`` on the same values:
    ``log(tf) + 1``, times ``idf_``, then scikit-learn's own in-place L2 normalisation with
    every (row, vectorizer) part as one row; the parts of other vectorizers (the binary cue
    counts) get their own steps. The result is the ColumnTransformer's matrix: same data,
    indices, indptr and dtypes (``tests/test_stance.py`` compares them).
    """

    def __init__(self, blocks: list[tuple[int, Any]], vectorizers: list[Any]) -> None:
        from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

        self.normalize_l2 = inplace_csr_row_normalize_l2
        sizes = [len(v.vocabulary_) for v in vectorizers]
        self.starts = np.cumsum([0, *sizes[:-1]])  # first column of each vectorizer
        self.blocks = [
            (col, grams, int(start)) for (col, grams), start in zip(blocks, self.starts, strict=True)
        ]
        self.width = int(sum(sizes))
        tfidf = [getattr(v, "_tfidf", None) for v in vectorizers]
        idf = [
            t.idf_ if t is not None and hasattr(t, "idf_") else np.ones(n)
            for t, n in zip(tfidf, sizes, strict=True)
        ]
        self.idf = np.concatenate(idf).astype(np.float64)  # 1.0: no idf
        # (binary, sublinear, L2) of each vectorizer; the usual TF-IDF one is (False, True, True)
        self.steps = [
            (bool(v.binary), t is not None and bool(t.sublinear_tf), t is not None and t.norm == "l2")
            for v, t in zip(vectorizers, tfidf, strict=True)
        ]
        self.sublinear = any(s for _, s, _ in self.steps)
        self.l2 = any(n for _, _, n in self.steps)

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> _StanceFeatures | None:
        """The features of ``pipeline``, or None when a setting is not one handled here (the
        pipeline then computes them itself)."""
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

        ct = pipeline.named_steps.get("features") if hasattr(pipeline, "named_steps") else None
        fitted = [
            t for t in getattr(ct, "transformers_", []) if not (isinstance(t[1], str) and t[1] == "drop")
        ]
        if (
            ct is None
            or not fitted
            or len(pipeline.steps) != 2
            or not getattr(ct, "sparse_output_", False)
            or getattr(ct, "remainder", None) != "drop"
            or any(isinstance(t, str) or not isinstance(col, int) for _, t, col in fitted)
        ):
            return None
        blocks: list[tuple[int, Any]] = []
        vectorizers = [t for _, t, _ in fitted]
        for vec, (_, _, col) in zip(vectorizers, fitted, strict=True):
            tfidf = getattr(vec, "_tfidf", None)
            plain = (
                (type(vec) is TfidfVectorizer and vec.dtype == np.float64 and tfidf.norm in ("l2", None))
                or (type(vec) is CountVectorizer and np.dtype(vec.dtype) in (np.int64, np.float64))
            ) and (
                vec.input == "content"
                and vec.preprocessor is None
                and not vec.strip_accents
                and not callable(vec.analyzer)
                and hasattr(vec, "vocabulary_")
            )
            kind = next((k for k in (_WordGrams, _CharWbGrams) if plain and k.supports(vec)), None)
            if kind is None:
                return None
            blocks.append((col, kind(vec)))
        width = sum(len(v.vocabulary_) for v in vectorizers)
        if width >= np.iinfo(np.int32).max or np.result_type(*(v.dtype for v in vectorizers)) != np.float64:
            return None
        return cls(blocks, vectorizers)

    def transform(self, rows: Sequence[Sequence[str]]) -> Any | None:
        """The stacked feature matrix of ``rows`` (None when a cell is not a string)."""
        import scipy.sparse as sp

        if not all(type(cell) is str for row in rows for cell in row):
            return None
        n, width = len(rows), self.width
        # key = row * width + column, as int32 when it fits (sorted twice as fast)
        base = np.arange(n + 1, dtype=np.int32 if (n + 1) * width < 2**31 else np.int64) * width
        keys = []
        for col, grams, start in self.blocks:
            ids, counts = grams.ids([row[col] for row in rows])
            key = np.repeat(base[:-1] + start, counts)
            key += ids
            keys.append(key[ids >= 0] if isinstance(grams, _WordGrams) else key)
        key = np.concatenate(keys)
        key.sort()
        first = np.empty(len(key), dtype=bool)
        first[:1] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        at = np.flatnonzero(first)
        counts = np.diff(at, append=len(key))
        key = key[at]  # sorted by row, then column
        # where each (row, vectorizer) part starts, and each row
        parts = np.searchsorted(key, (base[:-1, None] + self.starts.astype(key.dtype)).ravel())
        parts = np.append(parts, len(key)).astype(np.int32)
        indptr = parts[:: len(self.starts)].copy()
        indices = (key - np.repeat(base[:-1], np.diff(indptr))).astype(np.int32)
        data = self._weigh(counts, indices, parts)
        return sp.csr_matrix((data, indices, indptr), shape=(n, width))

    def _sublinear_tf(self, counts: Any) -> Any:
        """``log(tf) + 1`` of ``counts`` (ints from 1), as ``TfidfTransformer.transform`` computes
        it: the counts as float64, ``np.log`` in place, plus one."""
        data = counts.astype(np.float64)
        np.log(data, out=data)
        data += 1.0
        return data

    def _weigh(self, counts: Any, indices: Any, parts: Any) -> Any:
        """``CountVectorizer.transform``'s then ``TfidfTransformer.transform``'s values of ``counts``.

        ``parts``: where each (row, vectorizer) part of ``counts`` starts (and the end).
        """
        import scipy.sparse as sp

        k = len(self.steps)
        other = []  # (positions, steps) of the vectorizers that are not the usual TF-IDF
        for b, (binary, sublinear, l2) in enumerate(self.steps):
            if (binary, sublinear, l2) != (False, True, True):
                first, end = parts[b:-1:k], parts[b + 1 :: k]
                size = end - first
                at = np.arange(size.sum()) + np.repeat(first - np.cumsum(size) + size, size)
                other.append((at, binary, sublinear, l2))
        data = self._sublinear_tf(counts) if self.sublinear else counts.astype(np.float64)
        for at, binary, sublinear, _ in other:
            tf = np.ones(len(at), dtype=counts.dtype) if binary else counts[at]
            data[at] = self._sublinear_tf(tf) if sublinear else tf
        data *= self.idf[indices]
        if self.l2:
            kept = [(at, data[at]) for at, _, _, l2 in other if not l2]
            rows = sp.csr_matrix((data, indices, parts), shape=(len(parts) - 1, self.width), copy=False)
            self.normalize_l2(rows)
            if not np.may_share_memory(rows.data, data):
                data[:] = rows.data
            for at, values in kept:
                data[at] = values
        return data


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
        self._direct: _StanceFeatures | None = None
        self._linear = False  # the classifier is a binary LogisticRegression over those features
        self._direct_checked = False  # decided on the first prediction (the pipeline is fitted)

    def _check_direct(self) -> None:
        from sklearn.linear_model import LogisticRegression

        self._direct, self._direct_checked = _StanceFeatures.from_pipeline(self.pipeline), True
        clf = self.pipeline.steps[-1][1]
        self._linear = (
            self._direct is not None
            and type(clf) is LogisticRegression
            and len(clf.classes_) == 2
            and clf.coef_.shape == (1, self._direct.width)
        )

    def predict_proba(self, rows: Sequence[Sequence[str]]) -> list[float]:
        """Probability that each row's unit is critical.

        The features are the pipeline's own (same matrix), computed by
        :class:`_StanceFeatures` without the ColumnTransformer when its settings allow; a
        binary logistic regression then takes the steps of its ``predict_proba`` without
        re-validating the matrix (``decision_function``, ``_predict_proba_lr``).
        """
        if not rows:
            return []
        if not self._direct_checked:
            self._check_direct()
        X = self._direct.transform(rows) if self._direct is not None else None
        pos = list(self.pipeline.classes_).index(1)
        if X is None:
            proba = self.pipeline.predict_proba(_as_array(rows))
        elif self._linear:
            from scipy.special import expit

            clf = self.pipeline.steps[-1][1]
            prob = (X @ clf.coef_.T + clf.intercept_).reshape(-1)
            expit(prob, out=prob)
            return (prob if pos == 1 else 1 - prob).tolist()
        else:
            proba = self.pipeline.steps[-1][1].predict_proba(X)
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
