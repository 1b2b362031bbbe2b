"""Turn records into result dicts (the ``documents.jsonl`` schema).

The :class:`Analyzer` loads each pipeline once and streams records through
``nlp.pipe`` inside ``nlp.memory_zone()``, so memory stays flat on long runs: no
``Doc`` outlives its batch, only plain dicts leave this module.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from .language import DEFAULT_LANGUAGE
from .types import META_KEYS, Record, Rejected

T = TypeVar("T")

#: Label strategy per language when it differs from the classifier's default. The shipped
#: label model was trained on English gold documents (its n-gram features are English), so
#: other languages are labelled by the rules alone, which read only spans and flags.
#: Measured on the 30 French gold documents: rules 25/30, hybrid 22/30.
LANGUAGE_STRATEGY: dict[str, str] = {"fr": "rules"}

#: Characters of the first documents of each language tokenized once outside spaCy's
#: ``memory_zone``. Inside a zone the tokenizer caches nothing, so every word is split by
#: the prefix/suffix/infix rules again in every batch; tokenized outside, the first
#: documents fill its cache (at most ``Tokenizer.max_cache_size``, 10,000 chunks) and the
#: vocabulary with the common words for the rest of the run: tokens are the same, the
#: tokenizer runs several times faster, and the memory added is bounded by this budget.
WARM_CHARS = 1_000_000

RESULT_KEYS: tuple[str, ...] = (
    *META_KEYS,
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

    Each record is analysed in its language (:func:`hrdiscourse.language.resolve_language`:
    the ``language`` metadata, else detected from the text): English records by the
    English pipeline, French ones by the French pipeline (``fr_core_news_sm`` in full
    mode, its tokenizer and a sentencizer in fast mode) with the French lexicons. The
    English pipeline is loaded at once, the others on their first record.

    After a language's first documents (when its pipeline, stance model and label model
    are loaded), the objects alive in the process are moved out of the reach of Python's
    cyclic garbage collector (``gc.freeze()``): the loaded libraries and models are some
    500,000 objects that every full collection would otherwise walk again on a long run,
    for nothing, since they live as long as the process. Frozen objects are still freed
    when their last reference goes; only reference cycles among them wait for
    ``gc.unfreeze()``. Pass ``freeze_gc=False`` to leave the collector alone.

    Args:
        model: spaCy pipeline name or path for English; ``"auto"`` picks the installed
            English one. Other languages always use their ``"auto"`` model.
        mode: ``default``, ``full`` or ``fast`` (see :func:`hrdiscourse.load_pipeline`).
        freeze_gc: Whether to ``gc.freeze()`` once per language after its first documents.
    """

    def __init__(self, *, model: str = "auto", mode: str = "default", freeze_gc: bool = True) -> None:
        self.mode = mode
        self.model = model
        self.freeze_gc = freeze_gc
        self._frozen: set[str] = set()
        self._engines: dict[str, tuple[Any, Any]] = {}
        self._info: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        self._warm_left: dict[str, int] = {}
        self._nlp, self._twopass = self._engine(DEFAULT_LANGUAGE)

    def _engine(self, language: str) -> tuple[Any, Any]:
        """``(nlp, twopass or None)`` of a language, loaded once on first use."""
        if language not in self._engines:
            from .nlp.pipeline import load_pipeline

            model = self.model if language == DEFAULT_LANGUAGE else "auto"
            # "default" is two-pass (hrdiscourse.nlp.twopass): the fast pipeline on
            # everything, the trained one only on the sentences around mentions.
            if self.mode == "default":
                from .nlp.twopass import load_twopass

                twopass = load_twopass(model, language=language)
                self._engines[language] = (twopass.full, twopass)
            else:
                nlp = load_pipeline(model, mode="fast" if self.mode == "fast" else "full", language=language)
                self._engines[language] = (nlp, None)
        return self._engines[language]

    @property
    def nlp(self) -> Any:
        return self._nlp

    def model_info(self, language: str | None = None) -> dict[str, str]:
        """Pipeline, mode and classifier versions; for a run (``language=None``) the English
        pipeline plus ``spacy_pipeline_<lang>`` for every other language loaded."""
        from .classify import model_info as classifier_info

        def name(nlp: Any) -> str:
            meta = nlp.meta
            return f"{meta.get('lang', '')}_{meta.get('name', '')} {meta.get('version', '')}".strip()

        info = {"spacy_pipeline": name(self._engine(language or DEFAULT_LANGUAGE)[0]), "mode": self.mode}
        if language is None:
            for lang, (nlp, _) in self._engines.items():
                if lang != DEFAULT_LANGUAGE:
                    info[f"spacy_pipeline_{lang}"] = name(nlp)
        info.update(classifier_info())
        return info

    def lexicon_versions(self, language: str | None = None) -> dict[str, str]:
        """``{name: version}`` of a language's lexicons; for a run (``language=None``) the
        English ones plus ``<lang>:<name>`` for every other language loaded."""
        from .lexicons import load_lexicons

        out = {name: lex.version for name, lex in load_lexicons(language or DEFAULT_LANGUAGE).items()}
        if language is None:
            for lang in self._engines:
                if lang != DEFAULT_LANGUAGE:
                    out.update({f"{lang}:{name}": lex.version for name, lex in load_lexicons(lang).items()})
        return out

    def _versions(self, language: str) -> tuple[dict[str, str], dict[str, str]]:
        if language not in self._info:
            self._info[language] = (self.model_info(language), self.lexicon_versions(language))
        return self._info[language]

    def result(self, doc: Any, record: Record, *, language: str | None = None) -> dict[str, Any]:
        """The result dict of one processed ``Doc`` (see ``docs/schema.md``)."""
        from .nlp.serialize import doc_to_dict

        return self.result_from_spans(doc_to_dict(doc, record.text), record, language=language)

    def result_from_spans(
        self, spans: dict[str, Any], record: Record, *, language: str | None = None
    ) -> dict[str, Any]:
        """The result dict from ``doc_to_dict``-style spans (``hr_mentions``, ``signals``, ``links``).

        ``language`` is the language the record was analysed in (default: its metadata).
        """
        return self.results_from_spans([spans], [record], language=language)[0]

    def results_from_spans(
        self, spans: list[dict[str, Any]], records: list[Record], *, language: str | None = None
    ) -> list[dict[str, Any]]:
        """:meth:`result_from_spans` for many records; the label model runs once per strategy."""
        from .classify import label_documents
        from .reports.citations import annotate, format_citation

        results = []
        by_strategy: dict[str | None, list[int]] = {}
        for i, (doc_spans, record) in enumerate(zip(spans, records, strict=True)):
            res = meta_fields(record)
            if language:
                res["language"] = language
            res.update(doc_spans)
            res["text"] = record.text
            results.append(res)
            by_strategy.setdefault(LANGUAGE_STRATEGY.get(str(res.get("language"))), []).append(i)
        for strategy, indexes in by_strategy.items():
            group = [results[i] for i in indexes]
            labels = label_documents(group, strategy=strategy) if strategy else label_documents(group)
            for res, label in zip(group, labels, strict=True):
                res.update(label)
        for res in results:
            res["citation"] = format_citation(res, lang=res.get("language") or "en")
            res["annotation"] = annotate(res) if res["label"] != "none" else ""
            res["model"], res["lexicons"] = self._versions(res["language"])
        return results

    def _warm_tokenizers(self, part: list[Record], lang: str, pipelines: list[Any]) -> list[Any]:
        """Tokenize the first :data:`WARM_CHARS` characters of a language outside any memory zone.

        Returns, for each record of ``part``, the Doc the first pipeline's tokenizer made of
        it (None when it was not warmed): the caller processes that Doc instead of
        tokenizing the text a second time (the tokens are the same).
        """
        docs: list[Any] = [None] * len(part)
        left = self._warm_left.get(lang, WARM_CHARS)
        if left <= 0:
            return docs
        for i, rec in enumerate(part):
            if left <= 0:
                break
            for k, nlp in enumerate(pipelines):
                if len(rec.text) <= nlp.max_length:
                    doc = nlp.make_doc(rec.text)
                    if k == 0:
                        docs[i] = doc
            left -= len(rec.text)
        self._warm_left[lang] = left
        return docs

    def _analyze_part(self, part: list[Record], lang: str, batch_size: int) -> list[dict[str, Any]]:
        from .nlp.extensions import TEXT_KEY, make_doc

        nlp, twopass = self._engine(lang)
        warmed = self._warm_tokenizers(
            part, lang, [twopass.fast, twopass.full] if twopass is not None else [nlp]
        )
        first = twopass.fast if twopass is not None else nlp
        for rec, doc in zip(part, warmed, strict=True):
            if doc is not None:
                doc.user_data[TEXT_KEY] = rec.text
        # Docs made lazily (as nlp.pipe would) with their text kept beside them, so that the
        # components need not rebuild Doc.text from the tokens.
        inputs = (
            make_doc(first, rec.text) if doc is None else doc for rec, doc in zip(part, warmed, strict=True)
        )
        if twopass is not None:
            with twopass.memory_zone():
                merged = list(
                    twopass.pipe(inputs, batch_size=batch_size, originals=[rec.text for rec in part])
                )
        else:
            from .nlp.serialize import doc_to_dict

            with nlp.memory_zone():
                docs = nlp.pipe(inputs, batch_size=batch_size)
                merged = [doc_to_dict(doc, rec.text) for rec, doc in zip(part, docs, strict=True)]
        # plain dicts from here on: labels, citations and versions outside the memory zone
        return self.results_from_spans(merged, part, language=lang)

    def _analyze_one(self, record: Record, lang: str) -> dict[str, Any] | Rejected:
        """Analyse one record alone; an exception becomes a :class:`Rejected` with its reason."""
        try:
            return self._analyze_part([record], lang, 1)[0]
        except Exception as exc:  # noqa: BLE001 - reported in errors.jsonl, the batch goes on
            location = (
                record.source.rsplit(":", 1)[1]
                if ":line " in record.source or ":item " in record.source
                else ""
            )
            return Rejected(
                source=record.source,
                location=location,
                reason=(
                    f"analysis failed ({type(exc).__name__}: {exc}); the other documents were analysed. "
                    "Please report this document to the hrdiscourse maintainers."
                ),
            )

    def analyze_records(
        self, items: Iterable[tuple[Record, T]], *, batch_size: int = 16
    ) -> Iterator[tuple[Record, T, dict[str, Any] | Rejected]]:
        """Yield ``(record, context, result)`` for each ``(record, context)`` pair, in order.

        ``result`` is a :class:`~hrdiscourse.types.Rejected` for a document whose analysis
        raised: it is listed with its reason, the batch goes on.

        Each chunk is split by language, each part goes through its language's pipeline,
        and the results come back in input order.
        """
        from .language import resolve_language

        for chunk in _chunks(items, batch_size * 8):
            by_language: dict[str, list[int]] = {}
            languages = [
                resolve_language(rec.text, rec.meta.get("language"), where=rec.source) for rec, _ in chunk
            ]
            for i, lang in enumerate(languages):
                by_language.setdefault(lang, []).append(i)
            results: list[dict[str, Any] | Rejected | None] = [None] * len(chunk)
            for lang, indexes in by_language.items():
                part = [chunk[i][0] for i in indexes]
                try:
                    done = self._analyze_part(part, lang, batch_size)
                except Exception:  # noqa: BLE001 - one bad document must not stop a batch
                    done = [self._analyze_one(rec, lang) for rec in part]
                if self.freeze_gc and lang not in self._frozen:
                    self._frozen.add(lang)
                    gc.freeze()  # the models loaded for this language's first documents
                for i, res in zip(indexes, done, strict=True):
                    results[i] = res
            for (rec, ctx), res in zip(chunk, results, strict=True):
                yield rec, ctx, res  # type: ignore[misc]
