"""The researcher's API: :func:`analyze` texts or files in memory, or open a run with
:meth:`Corpus.from_dir`, and work with tidy pandas tables.

```python
import hrdiscourse

corpus = hrdiscourse.analyze("corpora/sample")          # or a text, a list of texts, Records
corpus.documents.groupby("label").size()                # one row per document
corpus.signals.query("category == 'exit_abstinence'")   # one row per span, with doc_id
corpus.concordance("exit_abstinence", window=1)         # left | match | right, per sentence
print(corpus.to_endnotes())                             # the seed report's endnote style
html = corpus.render(corpus.documents.doc_id[0])        # displaCy span view, overlaps drawn
```

A :class:`Corpus` holds result dicts exactly as ``documents.jsonl`` stores them
(``docs/schema.md``); iterating over it yields those dicts.
"""

from __future__ import annotations

import bisect
import html
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError
from .results import DOCUMENTS, ERRORS, MANIFEST, iter_documents, iter_errors, read_manifest
from .types import LABELS, Record, Rejected

__all__ = [
    "DOCUMENT_COLUMNS",
    "HR_CATEGORY",
    "LINK_COLUMNS",
    "SPAN_COLUMNS",
    "Corpus",
    "analyze",
    "to_records",
]

#: Category given to harm-reduction mentions in the span tables (signals carry their own).
HR_CATEGORY = "harm_reduction"

_META_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "source",
    "title",
    "author",
    "date",
    "year",
    "outlet",
    "url",
    "doc_type",
    "language",
)
#: Columns of :attr:`Corpus.documents`, in order.
DOCUMENT_COLUMNS: tuple[str, ...] = (
    *_META_COLUMNS,
    "label",
    *(f"score_{label}" for label in LABELS),
    "n_mentions",
    "n_signals",
    "n_links",
    "annotation",
    "citation",
)
#: Columns of :attr:`Corpus.mentions`, :attr:`Corpus.signals` and :attr:`Corpus.spans`.
SPAN_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "id",
    "kind",
    "category",
    "label",
    "start",
    "end",
    "text",
    "entry_id",
    "sent_index",
    "sentence",
    "sent_start",
    "negated",
    "hedged",
    "quoted",
    "critical",
    "speaker",
)
#: Columns of :attr:`Corpus.links`.
LINK_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "mention",
    "signal",
    "strength",
    "sent_distance",
    "mention_text",
    "signal_text",
    "signal_kind",
    "signal_category",
)
_CONCORDANCE_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "doc_label",
    "span_id",
    "kind",
    "category",
    "left",
    "match",
    "right",
    "sent_index",
    "start",
    "end",
    "negated",
    "hedged",
    "quoted",
    "critical",
    "speaker",
)
_FLAGS = ("negated", "hedged", "quoted", "critical")
_YEAR_RE = re.compile(r"^\s*(\d{4})(?!\d)")
_WS_RE = re.compile(r"\s+")
_SPANS_KEY = "hrd"


def _year(date: Any) -> int | None:
    match = _YEAR_RE.match(str(date)) if date else None
    return int(match.group(1)) if match else None


def _squash(text: str) -> str:
    """Collapse runs of whitespace (line breaks inside a sentence) for display."""
    return _WS_RE.sub(" ", text)


def _span_category(span: Mapping[str, Any], kind: str) -> str:
    if kind == "hr":
        return HR_CATEGORY
    return str(span.get("category") or str(span.get("label") or "other").lower())


# --- inputs -------------------------------------------------------------------------------


def _looks_like_path(value: str) -> bool:
    """A string without whitespace that names a file type or ends in a separator."""
    from .ingest import SUPPORTED_SUFFIXES, file_suffix

    if not value or any(c.isspace() for c in value):
        return False
    return value.endswith(("/", os.sep)) or file_suffix(Path(value)) in SUPPORTED_SUFFIXES


def to_records(
    inputs: str | os.PathLike[str] | Record | Mapping[str, Any] | Iterable[Any],
    *,
    errors: list[Rejected] | None = None,
) -> Iterator[Record]:
    """Turn what :func:`analyze` accepts into Records.

    Args:
        inputs: A path (file or folder), a text, a :class:`~hrdiscourse.types.Record`, a
            mapping with ``text`` (and optionally ``title``, ``author``, ``date``,
            ``outlet``, ``url``, ``doc_type``, ``language``, ``id``), or a list mixing them.
            A string is a path when it exists; otherwise it is text, unless it has no
            whitespace and ends like a file name (then it is a missing path, an error).
        errors: Inputs that cannot be analysed are appended here (see
            :func:`hrdiscourse.ingest.read_corpus`); when None, the first one raises.

    Yields:
        One Record per document.

    Raises:
        ConfigError: An item is of an unsupported type, or a string looks like a path
            that does not exist.
        IngestError: A file cannot be read and ``errors`` is None.
    """
    from .errors import IngestError
    from .ingest import read_corpus
    from .ingest.meta import make_record

    if isinstance(inputs, str | os.PathLike | Record | Mapping):
        items: Iterable[Any] = [inputs]
    else:
        items = inputs
    for i, item in enumerate(items, start=1):
        made: Record | Rejected | None = None
        if isinstance(item, Record):
            if not isinstance(item.text, str):
                raise ConfigError(f"input {i}: Record.text is {type(item.text).__name__}; it must be a str.")
            if not item.doc_id:
                made = make_record(item.text, dict(item.meta), file=item.source or f"<text {i}>")
            else:
                yield item
                continue
        elif isinstance(item, os.PathLike):
            yield from read_corpus(item, errors=errors)
            continue
        elif isinstance(item, str):
            if Path(item).exists():
                yield from read_corpus(item, errors=errors)
                continue
            if _looks_like_path(item):
                raise ConfigError(
                    f"input {i}: {item!r} looks like a path but does not exist; check the path, "
                    "or pass a pathlib.Path for files and a str with spaces for text."
                )
            made = make_record(item, {}, file=f"<text {i}>")
        elif isinstance(item, Mapping):
            text = item.get("text")
            if not isinstance(text, str):
                raise ConfigError(
                    f"input {i}: a mapping needs a str 'text' (and optionally title, author, date, "
                    "outlet, url, doc_type, language, id)."
                )
            made = make_record(text, item, file=f"<text {i}>")
        else:
            raise ConfigError(
                f"input {i}: a {type(item).__name__} is neither a path, a text, a mapping with 'text' "
                "nor a Record; pass one of those or a list of them."
            )
        if isinstance(made, Rejected):
            if errors is None:
                raise IngestError(f"{made.source}: {made.reason}", source=made.source)
            errors.append(made)
        elif made is not None:
            yield made


def analyze(
    inputs: str | os.PathLike[str] | Record | Mapping[str, Any] | Iterable[Any],
    *,
    model: str = "auto",
    mode: str = "default",
    batch_size: int = 16,
) -> Corpus:
    """Analyse texts, files or Records in memory and return a :class:`Corpus`.

    Nothing is written to disk. Rejected inputs are kept in :attr:`Corpus.errors`,
    documents seen twice (same id or same text) in :attr:`Corpus.duplicates`, as the
    ``analyze`` command does.

    Args:
        inputs: A path, a text, a Record, a mapping with ``text``, or a list of them
            (see :func:`to_records`).
        model: spaCy pipeline name or path; ``"auto"`` picks the installed English one.
        mode: ``default``, ``full`` or ``fast``.
        batch_size: Documents per ``nlp.pipe`` batch.

    Returns:
        The analysed corpus, documents in input order.

    Raises:
        ConfigError: An unknown mode or an unsupported input.
        ModelError: The spaCy pipeline cannot be loaded.
    """
    from .analysis import Analyzer
    from .runner import MODES, content_hash

    if mode not in MODES:
        raise ConfigError(
            f"mode {mode!r} is not one of {', '.join(MODES)}; use mode='default', 'full' or 'fast'."
        )
    errors: list[Rejected] = []
    duplicates: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()

    def unique() -> Iterator[tuple[Record, None]]:
        for record in to_records(inputs, errors=errors):
            h = content_hash(record.text)
            if record.doc_id in seen_ids or h in seen_hashes:
                duplicates.append({"source": record.source, "doc_id": record.doc_id})
                continue
            seen_ids.add(record.doc_id)
            seen_hashes.add(h)
            yield record, None

    analyzer = Analyzer(model=model, mode=mode)
    results = [result for _, _, result in analyzer.analyze_records(unique(), batch_size=batch_size)]
    return Corpus(results, errors=[e.to_dict() for e in errors], duplicates=duplicates)


# --- sentences for the concordance ------------------------------------------------------


def _sentence_bounds(result: Mapping[str, Any]) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets of a document.

    The pipeline's own sentences are known wherever a span or an evidence sentence
    sits; the text between them is split with spaCy's rule-based sentencizer, so the
    sentence of every match is exactly the pipeline's.
    """
    text = str(result.get("text") or "")
    known: dict[int, int] = {}
    for key in ("hr_mentions", "signals"):
        for span in result.get(key) or []:
            start, sentence = span.get("sent_start"), span.get("sentence")
            if isinstance(start, int) and isinstance(sentence, str) and sentence:
                if text[start : start + len(sentence)] == sentence:
                    known[start] = max(known.get(start, start), start + len(sentence))
    bounds: list[tuple[int, int]] = []
    pos = 0
    for start in sorted(known):
        end = known[start]
        if start < pos:
            continue
        bounds.extend(_split_sentences(text, pos, start))
        bounds.append((start, end))
        pos = end
    bounds.extend(_split_sentences(text, pos, len(text)))
    return bounds


_SENTENCIZER: Any = None


def _split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    global _SENTENCIZER
    chunk = text[start:end]
    if not chunk.strip():
        return []
    if _SENTENCIZER is None:
        import spacy

        _SENTENCIZER = spacy.blank("en")
        _SENTENCIZER.add_pipe("sentencizer")
    doc = _SENTENCIZER(chunk)
    out = []
    for sent in doc.sents:
        s, e = sent.start_char, sent.end_char
        if chunk[s:e].strip():
            out.append((start + s, start + e))
    return out


# --- the corpus ---------------------------------------------------------------------------


class Corpus:
    """Analysed documents and tidy tables over them.

    Args:
        results: Result dicts as ``documents.jsonl`` stores them (``docs/schema.md``).
        errors: Rejected inputs, ``{source, location, reason}`` each.
        duplicates: Inputs skipped as duplicates, ``{source, doc_id}`` each.
        manifest: The run's ``manifest.json``, when the corpus comes from a run folder.

    Raises:
        ConfigError: Two results share a ``doc_id``.
    """

    def __init__(
        self,
        results: Iterable[Mapping[str, Any]],
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        duplicates: Sequence[Mapping[str, Any]] = (),
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        self.results: list[dict[str, Any]] = [dict(r) for r in results]
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.duplicates: list[dict[str, Any]] = [dict(d) for d in duplicates]
        self.manifest: dict[str, Any] = dict(manifest or {})
        self._by_id: dict[str, dict[str, Any]] = {}
        for i, result in enumerate(self.results, start=1):
            doc_id = str(result.get("doc_id") or "")
            if doc_id in self._by_id:
                raise ConfigError(
                    f"result {i}: doc_id {doc_id!r} appears twice; every document needs its own id."
                )
            self._by_id[doc_id] = result

    @classmethod
    def from_dir(cls, run_dir: str | os.PathLike[str]) -> Corpus:
        """Open the output folder of a run (``hrdiscourse analyze ... --out DIR``).

        Reads ``documents.jsonl``, and ``errors.jsonl`` and ``manifest.json`` when present.

        Raises:
            ConfigError: The folder has no ``documents.jsonl``, a line is not a JSON
                object with a ``doc_id``, or ``manifest.json`` is not a JSON object (a
                :class:`~hrdiscourse.errors.ResultsError`, which is a ConfigError).
        """
        run = Path(run_dir)
        results = list(iter_documents(run / DOCUMENTS))
        errors_path = run / ERRORS
        errors = list(iter_errors(errors_path)) if errors_path.is_file() else []
        manifest = read_manifest(run / MANIFEST)
        return cls(
            results, errors=errors, duplicates=manifest.get("duplicate_sources") or [], manifest=manifest
        )

    # -- container protocol --

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.results)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._by_id

    def __getitem__(self, doc_id: str) -> dict[str, Any]:
        """The result dict of one document."""
        try:
            return self._by_id[doc_id]
        except KeyError:
            raise KeyError(
                f"no document with doc_id {doc_id!r}; see corpus.documents.doc_id for the ids."
            ) from None

    def __repr__(self) -> str:
        counts = self.documents["label"].value_counts()
        shown = ", ".join(f"{label}={counts[label]}" for label in LABELS if label in counts)
        return f"<Corpus {len(self)} documents: {shown or 'empty'}>"

    def filter(
        self, *, label: str | Iterable[str] | None = None, doc_ids: Iterable[str] | None = None
    ) -> Corpus:
        """A corpus with only the documents of some labels and/or ids, in the same order."""
        labels = _as_set(label, "label", LABELS)
        ids = set(doc_ids) if doc_ids is not None else None
        kept = [
            r
            for r in self.results
            if (labels is None or r.get("label") in labels) and (ids is None or r.get("doc_id") in ids)
        ]
        return Corpus(kept, manifest=self.manifest)

    # -- tables --

    @cached_property
    def documents(self) -> pd.DataFrame:
        """One row per document: metadata, ``year``, ``label``, ``score_<label>`` for every
        label, span and link counts, ``annotation`` and ``citation``."""
        rows = []
        for r in self.results:
            row: dict[str, Any] = {key: r.get(key) for key in _META_COLUMNS}
            row["year"] = _year(r.get("date"))
            row["label"] = r.get("label")
            scores = r.get("label_scores") or {}
            for label in LABELS:
                value = scores.get(label)
                row[f"score_{label}"] = float(value) if value is not None else None
            row["n_mentions"] = len(r.get("hr_mentions") or [])
            row["n_signals"] = len(r.get("signals") or [])
            row["n_links"] = len(r.get("links") or [])
            row["annotation"] = r.get("annotation") or ""
            row["citation"] = r.get("citation") or ""
            rows.append(row)
        df = pd.DataFrame(rows, columns=list(DOCUMENT_COLUMNS))
        df["year"] = df["year"].astype("Int64")
        for col in ("n_mentions", "n_signals", "n_links"):
            df[col] = df[col].astype("int64")
        for label in LABELS:
            df[f"score_{label}"] = df[f"score_{label}"].astype("float64")
        return df

    def _span_rows(self, key: str) -> list[dict[str, Any]]:
        rows = []
        for r in self.results:
            for span in r.get(key) or []:
                kind = "hr" if key == "hr_mentions" else str(span.get("kind") or "coopting")
                row = {col: span.get(col) for col in SPAN_COLUMNS}
                row["doc_id"] = r.get("doc_id")
                row["kind"] = kind
                row["category"] = _span_category(span, kind)
                for flag in _FLAGS:
                    row[flag] = bool(span.get(flag))
                rows.append(row)
        return rows

    def _span_frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=list(SPAN_COLUMNS))
        for col in ("start", "end", "sent_index", "sent_start"):
            df[col] = df[col].astype("Int64")
        for flag in _FLAGS:
            df[flag] = df[flag].astype("bool")
        return df

    @cached_property
    def mentions(self) -> pd.DataFrame:
        """One row per harm-reduction mention (``kind == "hr"``, ``category ==
        "harm_reduction"``), with its ``doc_id`` and context flags."""
        return self._span_frame(self._span_rows("hr_mentions"))

    @cached_property
    def signals(self) -> pd.DataFrame:
        """One row per signal (``kind`` coopting, extension or aligned), with its ``doc_id``."""
        return self._span_frame(self._span_rows("signals"))

    @cached_property
    def spans(self) -> pd.DataFrame:
        """Mentions and signals in one table, in document order."""
        rows = self._span_rows("hr_mentions") + self._span_rows("signals")
        order = {r.get("doc_id"): i for i, r in enumerate(self.results)}
        rows.sort(key=lambda row: (order.get(row["doc_id"], 0), row["start"] or 0, row["end"] or 0))
        return self._span_frame(rows)

    @cached_property
    def links(self) -> pd.DataFrame:
        """One row per mention ↔ signal link, with both span texts and the signal's category."""
        rows = []
        for r in self.results:
            mentions = {m.get("id"): m for m in r.get("hr_mentions") or []}
            signals = {s.get("id"): s for s in r.get("signals") or []}
            for link in r.get("links") or []:
                m = mentions.get(link.get("mention"), {})
                s = signals.get(link.get("signal"), {})
                kind = str(s.get("kind") or "coopting")
                rows.append(
                    {
                        "doc_id": r.get("doc_id"),
                        "mention": link.get("mention"),
                        "signal": link.get("signal"),
                        "strength": link.get("strength"),
                        "sent_distance": link.get("sent_distance"),
                        "mention_text": m.get("text"),
                        "signal_text": s.get("text"),
                        "signal_kind": kind if s else None,
                        "signal_category": _span_category(s, kind) if s else None,
                    }
                )
        df = pd.DataFrame(rows, columns=list(LINK_COLUMNS))
        df["sent_distance"] = df["sent_distance"].astype("Int64")
        return df

    # -- reading --

    def concordance(
        self,
        category: str | Iterable[str] | None = None,
        window: int = 0,
        label: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """A keyword-in-context table at sentence level.

        Args:
            category: Span categories to show (``"harm_reduction"`` for the mentions,
                ``"exit_abstinence"``, ``"extension_climate"``, ...); all when None.
            window: Extra sentences of context on each side (0: the match's sentence only).
            label: Only documents with this label (or these labels).

        Returns:
            One row per span: ``doc_id``, ``doc_label``, ``span_id``, ``kind``,
            ``category``, ``left`` (context before the match), ``match``, ``right``
            (context after), ``sent_index``, ``start``, ``end``, the flags and
            ``speaker``. Whitespace runs in the context columns are collapsed.

        Raises:
            ConfigError: ``window`` is negative or ``label`` is not a label.
        """
        if not isinstance(window, int) or window < 0:
            raise ConfigError(f"window={window!r}: give a whole number of sentences, 0 or more.")
        categories = {category} if isinstance(category, str) else (set(category) if category else None)
        labels = _as_set(label, "label", LABELS)
        rows = []
        for r in self.results:
            if labels is not None and r.get("label") not in labels:
                continue
            text = str(r.get("text") or "")
            spans = [("hr", s) for s in r.get("hr_mentions") or []]
            spans += [(str(s.get("kind") or "coopting"), s) for s in r.get("signals") or []]
            spans = [(k, s) for k, s in spans if categories is None or _span_category(s, k) in categories]
            if not spans:
                continue
            bounds = _sentence_bounds(r)
            starts = [b[0] for b in bounds]
            for kind, span in sorted(spans, key=lambda ks: (ks[1].get("start", 0), ks[1].get("end", 0))):
                start, end = int(span.get("start", 0)), int(span.get("end", 0))
                i = max(0, bisect.bisect_right(starts, start) - 1)
                if not bounds:
                    left_at, right_at = 0, len(text)
                else:
                    left_at = bounds[max(0, i - window)][0]
                    right_at = bounds[min(len(bounds) - 1, i + window)][1]
                left_at, right_at = min(left_at, start), max(right_at, end)
                row = {
                    "doc_id": r.get("doc_id"),
                    "doc_label": r.get("label"),
                    "span_id": span.get("id"),
                    "kind": kind,
                    "category": _span_category(span, kind),
                    "left": _squash(text[left_at:start]).lstrip(),
                    "match": _squash(text[start:end]),
                    "right": _squash(text[end:right_at]).rstrip(),
                    "sent_index": span.get("sent_index"),
                    "start": start,
                    "end": end,
                    "speaker": span.get("speaker"),
                }
                for flag in _FLAGS:
                    row[flag] = bool(span.get(flag))
                rows.append(row)
        df = pd.DataFrame(rows, columns=list(_CONCORDANCE_COLUMNS))
        df["sent_index"] = df["sent_index"].astype("Int64")
        return df

    def to_endnotes(self, *, start: int = 1) -> str:
        """The documents with harm-reduction framing as the seed report's Markdown endnotes.

        Args:
            start: Number of the first note (13 gives ``xiii``).
        """
        from .reports.citations import endnotes, to_markdown

        return to_markdown(endnotes(self.results, start=start))

    def render(self, doc_id: str, *, page: bool = False) -> str:
        """The document as displaCy's span view: every mention and signal underlined,
        overlapping and nested spans stacked.

        Args:
            doc_id: The document to draw.
            page: A full HTML page instead of a fragment (for a notebook, pass the
                fragment to ``IPython.display.HTML``).

        Returns:
            HTML; the text, title and labels are escaped.

        Raises:
            KeyError: No document has this id.
        """
        from spacy import displacy

        from .reports.document import category_colour

        result = self[doc_id]
        data, colours = _displacy_data(result, category_colour)
        options = {"spans_key": _SPANS_KEY, "colors": colours}
        return displacy.render(data, style="span", manual=True, options=options, page=page, jupyter=False)

    # -- exports --

    def export(self, format: str, out: str | os.PathLike[str]) -> list[Path]:
        """Write the corpus in a researcher's format; see :func:`hrdiscourse.exports.export`."""
        from .exports import export

        return export(self, format, out)


def _as_set(value: str | Iterable[str] | None, name: str, allowed: Sequence[str]) -> set[str] | None:
    if value is None:
        return None
    values = {value} if isinstance(value, str) else set(value)
    unknown = sorted(values - set(allowed))
    if unknown:
        raise ConfigError(f"{name} {', '.join(map(repr, unknown))} unknown; use one of {', '.join(allowed)}.")
    return values


_TOKENIZERS: dict[str, Any] = {}


def _tokenizer(lang: str) -> Any:
    if lang not in _TOKENIZERS:
        import spacy

        try:
            _TOKENIZERS[lang] = spacy.blank(lang)
        except Exception:  # noqa: BLE001 - any unknown language code falls back to English rules
            _TOKENIZERS[lang] = spacy.blank("en")
    return _TOKENIZERS[lang]


def _displacy_data(result: Mapping[str, Any], colour: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The manual input of displaCy's span renderer: tokens and token-index spans."""
    from .reports.document import clamped_spans

    text = str(result.get("text") or "")
    doc = _tokenizer(str(result.get("language") or "en")).make_doc(text)
    spans = []
    colours: dict[str, str] = {}
    for span in clamped_spans(result):
        # Expand to whole tokens: a span inside a token ("harm-reduction") still shows.
        tokens = doc.char_span(span["start"], span["end"], alignment_mode="expand")
        if tokens is None or len(tokens) == 0:
            continue
        kind = "hr" if span["_kind"] == "hr" else str(span.get("kind") or "coopting")
        category = _span_category(span, kind)
        label = html.escape(category.upper())
        colours[label] = colour(category)
        spans.append({"start_token": tokens.start, "end_token": tokens.end, "label": label})
    title = result.get("title")
    data = {
        "text": text,
        "tokens": [t.text for t in doc],
        "spans": spans,
        "title": html.escape(str(title)) if title else None,
    }
    return data, colours
