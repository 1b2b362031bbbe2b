"""Turn a processed Doc into the ``hr_mentions``/``signals``/``links`` dicts of docs/schema.md."""

from __future__ import annotations

import bisect
from typing import Any

from spacy.tokens import Doc, Span

from .context import sentences
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
) -> dict[str, Any]:
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
    return {
        "start": start,
        "end": end,
        "text": span.text if text is None else text[start:end],
        "entry_id": span.id_,
        "label": span.label_,
        "sent_index": si,
        "sentence": sent[0],
        "sent_start": sent[1],
        "negated": bool(neg),
        "hedged": bool(hedge),
        "quoted": bool(quote),
        "critical": bool(crit),
        "speaker": speaker,
    }


class _Sentences:
    """Sentence index, text and start of spans; each sentence's text is built once."""

    def __init__(self, doc: Doc, text: str | None = None) -> None:
        self.doc = doc
        self.text = text
        self.sents = sentences(doc)
        # sentences partition the tokens in order: a token's sentence is the last one
        # starting at or before it (what context.sentence_index maps it to)
        self.starts = [s.start for s in self.sents]
        self._info: dict[int, tuple[str, int]] = {}

    def of(self, span: Span) -> tuple[int, tuple[str, int]]:
        si = bisect.bisect_right(self.starts, span.start) - 1 if self.sents else 0
        info = self._info.get(si)
        if info is None:
            sent = self.sents[si] if self.sents else self.doc[:]
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
    hr_mentions = []
    for i, span in enumerate(mentions):
        d = _span_dict(span, *sents.of(span), text, flags)
        hr_mentions.append({"id": f"m{i}", **d})
    out_signals = []
    for j, span in enumerate(signals):
        d = _span_dict(span, *sents.of(span), text, flags)
        d = {
            "id": f"s{j}",
            **{k: d[k] for k in ("start", "end", "text", "entry_id")},
            "kind": signal_kind(span.label_),
            "category": span.label_.lower(),
            **{k: v for k, v in d.items() if k not in ("start", "end", "text", "entry_id")},
        }
        out_signals.append(d)
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
