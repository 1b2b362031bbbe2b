"""Turn a processed Doc into the ``hr_mentions``/``signals``/``links`` dicts of docs/schema.md."""

from __future__ import annotations

from typing import Any

from spacy.tokens import Doc, Span

from .context import sentence_index, sentences

MENTIONS_KEY = "hrd_mentions"
SIGNALS_KEY = "hrd_signals"


def signal_kind(label: str) -> str:
    """Return ``extension``, ``aligned`` or ``coopting`` for a signal label."""
    if label.startswith("EXTENSION_"):
        return "extension"
    if label.startswith("ALIGNED_"):
        return "aligned"
    return "coopting"


def _span_dict(span: Span, sent_of: list[int], sents: list[Span]) -> dict[str, Any]:
    si = sent_of[span.start] if sent_of else 0
    sent = sents[si] if sents else span.doc[:]
    return {
        "start": span.start_char,
        "end": span.end_char,
        "text": span.text,
        "entry_id": span.id_,
        "label": span.label_,
        "sent_index": si,
        "sentence": sent.text,
        "sent_start": sent.start_char,
        "negated": bool(span._.hrd_negated),
        "hedged": bool(span._.hrd_hedged),
        "quoted": bool(span._.hrd_quoted),
        "critical": bool(span._.hrd_critical),
        "speaker": span._.hrd_speaker,
    }


def doc_to_dict(doc: Doc) -> dict[str, list[dict[str, Any]]]:
    """Return ``{"hr_mentions", "signals", "links"}`` for a Doc processed by the hrdiscourse pipeline.

    Mention ids are ``m0, m1, ...`` and signal ids ``s0, s1, ...`` in span-group order
    (sorted by position by ``hrd_context``); links refer to them.
    """
    sents = sentences(doc)
    sent_of = sentence_index(doc)
    mentions = list(doc.spans[MENTIONS_KEY]) if MENTIONS_KEY in doc.spans else []
    signals = list(doc.spans[SIGNALS_KEY]) if SIGNALS_KEY in doc.spans else []
    hr_mentions = []
    for i, span in enumerate(mentions):
        d = _span_dict(span, sent_of, sents)
        hr_mentions.append({"id": f"m{i}", **d})
    out_signals = []
    for j, span in enumerate(signals):
        d = _span_dict(span, sent_of, sents)
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
