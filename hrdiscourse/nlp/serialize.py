"""Turn a processed Doc into the ``hr_mentions``/``signals``/``links`` dicts of docs/schema.md."""

from __future__ import annotations

import bisect
from typing import Any

from spacy.tokens import Doc, Span

from .context import _sentence_starts, sentences
from .extensions import lines_up as _lines_up

MENTIONS_KEY = "hrd_mentions"
SIGNALS_KEY = "hrd_signals"


def signal_kind(label: str) -> str:
    """Return ``extension``, ``aligned`` or ``coopting`` for a signal label."""
    if label.startswith("EXTENSION_"):
        return "extension"
    if label.startswith("ALIGNED_"):
        return "aligned"
    return "coopting"


_FLAGS = ("hrd_negated", "hrd_hedged", "hrd_quoted", "hrd_critical", "hrd_speaker")


def _flag_defaults() -> tuple[Any, ...] | None:
    """The defaults of the five span flags when all are plain stored values, else None.

    Such a value lives in ``doc.user_data`` under ``("._.", name, start_char, end_char)``
    (what ``span._`` reads); reading the dict directly skips one ``Underscore`` per span.
    An extension re-registered with a getter or a method goes through ``span._``.
    """
    defaults = []
    for name in _FLAGS:
        ext = Span.get_extension(name)
        if ext is None or ext[1:] != (None, None, None) or isinstance(ext[0], (dict, list, set)):
            return None
        defaults.append(ext[0])
    return tuple(defaults)


def _span_dict(
    span: Span,
    si: int,
    sent: tuple[str, int],
    text: str | None = None,
    flags: tuple[dict[Any, Any], tuple[Any, ...]] | None = None,
    id_: str | None = None,
    *,
    signal: bool = False,
) -> dict[str, Any]:
    """The dict of one span, with ``id`` first when ``id_`` is given; a ``signal``'s has
    ``kind`` and ``category`` after ``entry_id``.

    Built in its final key order in one go (the order of the JSON output's keys).
    """
    start, end = span.start_char, span.end_char
    if flags is not None:
        data, (neg, hedge, quote, crit, speaker) = flags
        neg = data.get(("._.", "hrd_negated", start, end), neg)
        hedge = data.get(("._.", "hrd_hedged", start, end), hedge)
        quote = data.get(("._.", "hrd_quoted", start, end), quote)
        crit = data.get(("._.", "hrd_critical", start, end), crit)
        speaker = data.get(("._.", "hrd_speaker", start, end), speaker)
    else:
        ext = span._  # one Underscore for the five flags
        neg, hedge, quote, crit = ext.hrd_negated, ext.hrd_hedged, ext.hrd_quoted, ext.hrd_critical
        speaker = ext.hrd_speaker
    label = span.label_
    d = {
        "id": id_,
        "start": start,
        "end": end,
        "text": span.text if text is None else text[start:end],
        "entry_id": span.id_,
    }
    if signal:  # a signal's kind and category come before its label
        d["kind"] = signal_kind(label)
        d["category"] = label.lower()
    d.update(
        label=label,
        sent_index=si,
        sentence=sent[0],
        sent_start=sent[1],
        negated=bool(neg),
        hedged=bool(hedge),
        quoted=bool(quote),
        critical=bool(crit),
        speaker=speaker,
    )
    if id_ is None:
        del d["id"]  # the other keys keep their order
    return d


class _Sentences:
    """Sentence index, text and start of spans; each sentence's text is built once.

    The sentences are those of :func:`~.context.sentences`. When that function reads them
    from the ``SENT_START`` column, only their starts are read here and a ``Span`` is made
    just for the sentences that hold a span (a news article has dozens of sentences and a
    few spans).
    """

    def __init__(self, doc: Doc, text: str | None = None) -> None:
        self.doc = doc
        self.text = text
        self.sents: list[Span] | None = None
        if len(doc) and doc.has_annotation("SENT_START") and "sents" not in doc.user_hooks:
            # the same token starts as the sentences(doc) spans, without making the spans
            self.starts = _sentence_starts(doc)
        else:
            self.sents = sentences(doc)
            self.starts = [s.start for s in self.sents]
        # sentences partition the tokens in order: a token's sentence is the last one
        # starting at or before it (what context.sentence_index maps it to)
        self._info: dict[int, tuple[str, int]] = {}

    def _sentence(self, si: int) -> Span:
        if self.sents is not None:
            return self.sents[si] if self.sents else self.doc[:]
        end = self.starts[si + 1] if si + 1 < len(self.starts) else len(self.doc)
        return Span(self.doc, self.starts[si], end)

    def of(self, span: Span) -> tuple[int, tuple[str, int]]:
        si = bisect.bisect_right(self.starts, span.start) - 1 if self.starts else 0
        info = self._info.get(si)
        if info is None:
            sent = self._sentence(si)
            start = sent.start_char
            text = sent.text if self.text is None else self.text[start : sent.end_char]
            info = self._info[si] = (text, start)
        return si, info


def doc_to_dict(doc: Doc, text: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Return ``{"hr_mentions", "signals", "links"}`` for a Doc processed by the hrdiscourse pipeline.

    Mention ids are ``m0, m1, ...`` and signal ids ``s0, s1, ...`` in span-group order
    (sorted by position by ``hrd_context``); links refer to them.

    Args:
        doc: The processed Doc.
        text: The text ``doc`` was made from, when the caller has it: span and sentence
            texts are then sliced from it (the same strings: spaCy's tokenization keeps
            every character) instead of being joined token by token.
    """
    if text is not None and not _lines_up(doc, text):
        text = None
    sents = _Sentences(doc, text)
    mentions = list(doc.spans[MENTIONS_KEY]) if MENTIONS_KEY in doc.spans else []
    signals = list(doc.spans[SIGNALS_KEY]) if SIGNALS_KEY in doc.spans else []
    defaults = _flag_defaults() if mentions or signals else None
    flags = (doc.user_data, defaults) if defaults is not None else None
    hr_mentions = [_span_dict(span, *sents.of(span), text, flags, f"m{i}") for i, span in enumerate(mentions)]
    out_signals = [
        _span_dict(span, *sents.of(span), text, flags, f"s{j}", signal=True) for j, span in enumerate(signals)
    ]
    links = []
    for link in doc._.hrd_links or []:
        links.append(
            {
                "mention": f"m{link['mention']}",
                "signal": f"s{link['signal']}",
                "strength": link["strength"],
                "sent_distance": int(link["sent_distance"]),
            }
        )
    return {"hr_mentions": hr_mentions, "signals": out_signals, "links": links}
