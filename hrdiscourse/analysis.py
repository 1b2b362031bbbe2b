"""Turn records into result dicts (the ``documents.jsonl`` schema).

The :class:`Analyzer` loads each pipeline once and streams records through
``nlp.pipe`` inside ``nlp.memory_zone()``, so memory stays flat on long runs: no
``Doc`` outlives its batch, only plain dicts leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from .types import Record

T = TypeVar("T")

RESULT_KEYS: tuple[str, ...] = (
    "doc_id",
    "source",
    "url",
    "title",
    "author",
    "date",
    "outlet",
    "doc_type",
    "language",
    "label",
    "label_scores",
    "hr_mentions",
    "signals",
    "links",
    "evidence",
    "annotation",
    "citation",
    "lexicons",
    "model",
)


def meta_fields(record: Record) -> dict[str, Any]:
    """The metadata part of a result dict, every key present (``None`` when unknown)."""
    meta = record.meta
    return {
        "doc_id": record.doc_id,
        "source": record.source,
        "url": meta.get("url"),
        "title": meta.get("title"),
        "author": meta.get("author"),
        "date": meta.get("date"),
        "outlet": meta.get("outlet"),
        "doc_type": meta.get("doc_type") or "other",
        "language": meta.get("language") or "en",
    }


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Analyzer:
    """Analyse records with one loaded pipeline per language and mode.

    Args:
        model: spaCy pipeline name or path; ``"auto"`` picks the installed English one.
        mode: ``default``, ``full`` or ``fast`` (see :func:`hrdiscourse.load_pipeline`).
    """

    def __init__(self, *, model: str = "auto", mode: str = "default") -> None:
        from .nlp.pipeline import load_pipeline

        self.mode = mode
        self.model = model
        # "default" is two-pass (hrdiscourse.nlp.twopass): the fast pipeline on
        # everything, the trained one only on the sentences around mentions.
        self._twopass = None
        if mode == "default":
            from .nlp.twopass import load_twopass

            self._twopass = load_twopass(model)
            self._nlp = self._twopass.full
        else:
            self._nlp = load_pipeline(model, mode="fast" if mode == "fast" else "full")

    @property
    def nlp(self) -> Any:
        return self._nlp

    def model_info(self) -> dict[str, str]:
        from .classify import model_info as classifier_info

        meta = self._nlp.meta
        info = {
            "spacy_pipeline": f"{meta.get('lang', '')}_{meta.get('name', '')} {meta.get('version', '')}".strip(),
            "mode": self.mode,
        }
        info.update(classifier_info())
        return info

    def lexicon_versions(self) -> dict[str, str]:
        from .lexicons import load_lexicons

        return {name: lex.version for name, lex in load_lexicons("en").items()}

    def result(self, doc: Any, record: Record) -> dict[str, Any]:
        """The result dict of one processed ``Doc`` (see ``docs/schema.md``)."""
        from .nlp.serialize import doc_to_dict

        return self.result_from_spans(doc_to_dict(doc), record)

    def result_from_spans(self, spans: dict[str, Any], record: Record) -> dict[str, Any]:
        """The result dict from ``doc_to_dict``-style spans (``hr_mentions``, ``signals``, ``links``)."""
        from .classify import label_document
        from .reports.citations import annotate, format_citation

        res = meta_fields(record)
        res.update(spans)
        res["text"] = record.text
        res.update(label_document(res))
        res["citation"] = format_citation(res, lang=res.get("language") or "en")
        res["annotation"] = annotate(res) if res["label"] != "none" else ""
        res["lexicons"] = self._lexicons
        res["model"] = self._model_info
        return res

    def analyze_records(
        self, items: Iterable[tuple[Record, T]], *, batch_size: int = 16
    ) -> Iterator[tuple[Record, T, dict[str, Any]]]:
        """Yield ``(record, context, result)`` for each ``(record, context)`` pair, in order."""
        self._lexicons = self.lexicon_versions()
        self._model_info = self.model_info()
        nlp = self._nlp
        if self._twopass is not None:
            for chunk in _chunks(items, batch_size * 8):
                with self._twopass.memory_zone():
                    merged = self._twopass.pipe([rec.text for rec, _ in chunk], batch_size=batch_size)
                    for (rec, ctx), spans in zip(chunk, merged, strict=True):
                        yield rec, ctx, self.result_from_spans(spans, rec)
            return
        for chunk in _chunks(items, batch_size * 8):
            with nlp.memory_zone():
                pairs = ((rec.text, (rec, ctx)) for rec, ctx in chunk)
                for doc, (rec, ctx) in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
                    yield rec, ctx, self.result(doc, rec)
