"""The default mode: a lexical pass over everything, the trained pipeline only near mentions.

Most documents carry no harm-reduction framing, and in those that do the parse only
matters around the mentions (``direct`` links, speakers). So:

1. the **fast** pipeline (tokenizer, sentencizer, span rulers, context, linker) runs
   over every document; a document without a harm-reduction mention is finished here
   (its label is ``none`` whatever the parse would say);
2. for the others, the sentences within ``window`` of a mention (the linker's window,
   ±2 by default) are the **core**; the core plus ``margin`` sentences on each side
   (the context component's reach, ±1 for critical cues) is cut out as a window text,
   and the **trained** pipeline runs on the window texts only (batched across
   documents);
3. the results are merged: spans that start inside a core come from the trained pass
   (their offsets shifted back into the original text), every other span and its
   document-distance link from the fast pass. Sentence indices follow one segmentation
   of the whole text: the parser's sentences inside windows, the sentencizer's outside;
4. speakers need a parse: in a document with a mention, a sentence outside the windows
   that holds a signal and a reported-speech cue ("said", "according to") is parsed on
   its own too, and only its spans' ``speaker`` is taken from it.

Documents without a mention, usually most of a news stream, never reach the trained
pipeline; :class:`TwoPassStats` counts the share of text that did.

Spans are dicts as in ``docs/schema.md``; character offsets index the original text.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from .context import quote_regions
from .serialize import _lines_up, doc_to_dict

__all__ = ["TwoPass", "TwoPassStats", "load_twopass"]

_STRENGTH_RANK = {"direct": 0, "sentence": 1, "nearby": 2, "document": 3}


@dataclass
class TwoPassStats:
    """Counters of what the trained pipeline was spared (no per-document state)."""

    docs: int = 0
    docs_with_mentions: int = 0
    chars: int = 0
    window_chars: int = 0
    windows: int = 0

    @property
    def trained_share(self) -> float:
        """Share of the characters that went through the trained pipeline."""
        return self.window_chars / self.chars if self.chars else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "docs": self.docs,
            "docs_with_mentions": self.docs_with_mentions,
            "chars": self.chars,
            "window_chars": self.window_chars,
            "windows": self.windows,
            "trained_share": round(self.trained_share, 4),
        }


@dataclass
class _Window:
    """One text cut for the trained pass: ``text[start:end]`` and its core char ranges.

    A ``speaker_only`` window is one sentence of reported speech far from any mention:
    only the speakers of its spans are taken from the trained pass.
    """

    start: int
    end: int
    cores: list[tuple[int, int]] = field(default_factory=list)
    speaker_only: bool = False


@dataclass
class _Plan:
    """What the fast pass found for one document and which windows it needs."""

    text: str
    fast: dict[str, list[dict[str, Any]]]
    sents: list[tuple[int, int]]  # fast-pass sentence char ranges
    windows: list[_Window]


def _intervals(centres: Iterable[int], reach: int, n: int) -> list[tuple[int, int]]:
    """Merged inclusive sentence intervals ``[c - reach, c + reach]`` clipped to ``[0, n)``."""
    out: list[tuple[int, int]] = []
    for c in sorted(set(centres)):
        lo, hi = max(0, c - reach), min(n - 1, c + reach)
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _sentence_ranges(doc: Doc) -> list[tuple[int, int]]:
    if doc.has_annotation("SENT_START"):
        return [(s.start_char, s.end_char) for s in doc.sents]
    return [(0, len(doc.text))] if len(doc) else []


#: Trained components whose annotations nothing of hrdiscourse reads, with the token
#: attributes that would read them: speakers and ``direct`` links use the parse and POS
#: (tagger, parser, attribute_ruler), the lexicons ``LOWER``/``ORTH``.
_SKIPPABLE = {
    "ner": frozenset({"ENT_TYPE", "ENT_IOB", "ENT_ID", "ENT_KB_ID"}),
    "lemmatizer": frozenset({"LEMMA"}),
}


def _pattern_attrs(nlp: Language) -> set[str]:
    """Token attributes named by the hrd components' patterns (span rulers and cues)."""
    attrs: set[str] = set()
    for name in nlp.pipe_names:
        if not name.startswith("hrd_"):
            continue
        pipe = nlp.get_pipe(name)
        for p in [*getattr(pipe, "patterns", []), *getattr(pipe, "cues", [])]:
            pattern = p.get("pattern")
            if isinstance(pattern, list):
                for token in pattern:
                    attrs.update(str(k).upper() for k in token)
    return attrs


def skippable_components(nlp: Language) -> list[str]:
    """Components of ``nlp`` that change no hrdiscourse result (NER, lemmas), unless a
    pattern reads their annotation."""
    attrs = _pattern_attrs(nlp)
    return [name for name, reads in _SKIPPABLE.items() if name in nlp.pipe_names and not attrs & reads]


def _in_ranges(pos: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in ranges)


def _span_key(span: dict[str, Any]) -> tuple[int, int, str, str]:
    return (span["start"], span["end"], str(span.get("label") or ""), str(span.get("entry_id") or ""))


class TwoPass:
    """Run a fast pipeline everywhere and a trained one around harm-reduction mentions.

    Args:
        fast: The ``mode="fast"`` pipeline of :func:`hrdiscourse.load_pipeline`.
        full: The ``mode="full"`` pipeline (same lexicons).
        window: Sentences on each side of a mention whose spans come from the trained
            pass; default: the full pipeline's linker window.
        margin: Extra sentences of context given to the trained pass beyond ``window``;
            default: the context component's ``critical_window``.
        speakers: Also parse, in documents with a mention, the sentences far from it
            that hold a signal and a reported-speech cue, so that every span's
            ``speaker`` is the one full mode finds (the label model reads speakers
            anywhere in the document). False parses only the windows.
    """

    def __init__(
        self,
        fast: Language,
        full: Language,
        *,
        window: int | None = None,
        margin: int | None = None,
        speakers: bool = True,
    ):
        self.fast = fast
        self.full = full
        linker = full.get_pipe("hrd_linker") if "hrd_linker" in full.pipe_names else None
        context = full.get_pipe("hrd_context") if "hrd_context" in full.pipe_names else None
        self.window = window if window is not None else int(getattr(linker, "window", 2))
        self.margin = margin if margin is not None else int(getattr(context, "critical_window", 1))
        self.speakers = speakers
        # the trained pass runs without them: same results, about half the time
        self.skip = skippable_components(full)
        self._speech = Matcher(fast.vocab)
        fast_context = fast.get_pipe("hrd_context") if "hrd_context" in fast.pipe_names else None
        for cue in getattr(fast_context, "cues", []):
            if cue["label"] == "REPORTED_SPEECH" and not isinstance(cue["pattern"], str):
                self._speech.add("hrd_speech", [cue["pattern"]])
        self.stats = TwoPassStats()

    @contextmanager
    def memory_zone(self) -> Iterator[None]:
        """Both pipelines' ``memory_zone``: strings and Docs of a batch are freed on exit."""
        with ExitStack() as stack:
            stack.enter_context(self.fast.memory_zone())
            stack.enter_context(self.full.memory_zone())
            yield

    # --- planning --------------------------------------------------------------------

    def _plan(self, doc: Doc, text: str | None = None) -> _Plan:
        # doc.text joins every token again; the caller usually has the text already
        if text is None or not _lines_up(doc, text):
            text = doc.text
        fast = doc_to_dict(doc, text)
        sents = _sentence_ranges(doc)
        self.stats.docs += 1
        self.stats.chars += len(text)
        if not fast["hr_mentions"] or not sents:
            return _Plan(text, fast, sents, [])
        self.stats.docs_with_mentions += 1
        centres = [m["sent_index"] for m in fast["hr_mentions"]]
        cores = _intervals(centres, self.window, len(sents))
        windows = []
        for lo, hi in _intervals(centres, self.window + self.margin, len(sents)):
            win = _Window(sents[lo][0], sents[hi][1])
            win.cores = [(sents[a][0], sents[b][1]) for a, b in cores if lo <= a and b <= hi]
            windows.append(win)
        if self.speakers and len(self._speech):
            windows += self._speaker_windows(doc, fast, sents, windows)
        for win in windows:
            self.stats.windows += 1
            self.stats.window_chars += win.end - win.start
        return _Plan(text, fast, sents, windows)

    def _speaker_windows(
        self, doc: Doc, fast: dict[str, Any], sents: list[tuple[int, int]], windows: list[_Window]
    ) -> list[_Window]:
        """Sentences outside the windows with a signal and a reported-speech cue."""
        outside = {
            s["sent_index"]
            for s in fast["signals"]
            if not any(w.start <= s["start"] < w.end for w in windows) and s["sent_index"] < len(sents)
        }
        if not outside:
            return []
        starts = [a for a, _ in sents]
        speech = set()
        for _, start, _ in self._speech(doc):
            speech.add(bisect.bisect_right(starts, doc[start].idx) - 1)
        return [_Window(*sents[i], speaker_only=True) for i in sorted(outside & speech)]

    # --- merging ---------------------------------------------------------------------

    def _merge(self, plan: _Plan, window_dicts: list[dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
        if not plan.windows:
            return plan.fast
        text = plan.text
        cores = [c for w in plan.windows for c in w.cores]

        # One segmentation of the whole text: parser sentences inside windows, fast outside.
        segments: list[tuple[int, int]] = [
            s
            for s in plan.sents
            if not any(w.start <= s[0] < w.end for w in plan.windows if not w.speaker_only)
        ]
        mentions: list[dict[str, Any]] = []
        signals: list[dict[str, Any]] = []
        # (signal key) -> (mention key, strength) for links decided by the trained pass
        decided: dict[tuple, tuple[tuple, str]] = {}
        # speakers the trained pass found for spans that otherwise come from the fast pass
        speakers: dict[tuple, str | None] = {}
        for win, wd in zip(plan.windows, window_dicts, strict=True):
            off = win.start
            kept_m: dict[str, dict[str, Any]] = {}
            for group, out in (("hr_mentions", mentions), ("signals", signals)):
                for span in wd[group]:
                    shifted = dict(span)
                    shifted["start"] += off
                    shifted["end"] += off
                    shifted["sent_start"] += off
                    if not _in_ranges(shifted["start"], win.cores):
                        speakers[_span_key(shifted)] = span.get("speaker")
                        continue
                    out.append(shifted)
                    if group == "hr_mentions":
                        kept_m[span["id"]] = shifted
            wsig = {s["id"]: s for s in wd["signals"]}
            for link in wd["links"]:
                mention = kept_m.get(link["mention"])
                sig = wsig.get(link["signal"])
                if mention is None or sig is None:
                    continue
                skey = _span_key({**sig, "start": sig["start"] + off, "end": sig["end"] + off})
                decided[skey] = (_span_key(mention), link["strength"])
            if not win.speaker_only:
                segments.extend((a + off, b + off) for a, b in wd["_sents"])
        for group, out in (("hr_mentions", mentions), ("signals", signals)):
            for span in plan.fast[group]:
                if not _in_ranges(span["start"], cores):
                    out.append({**span, "speaker": speakers.get(_span_key(span), span.get("speaker"))})

        segments = sorted(set(segments))
        starts = [a for a, _ in segments]
        regions = quote_regions(text)
        for span in mentions + signals:
            i = max(0, bisect.bisect_right(starts, span["start"]) - 1)
            a, b = segments[i] if segments else (0, len(text))
            span["sent_index"] = i
            span["sent_start"] = a
            span["sentence"] = text[a:b]
            # Quotes can open before a window: decide on the whole text with hrd_context's rule.
            span["quoted"] = any(qa <= span["start"] < qb for qa, qb in regions)

        mentions.sort(key=_span_key)
        signals.sort(key=_span_key)
        for i, m in enumerate(mentions):
            m["id"] = f"m{i}"
        for j, s in enumerate(signals):
            s["id"] = f"s{j}"
        by_key = {_span_key(m): m for m in mentions}
        links = []
        for sig in signals:
            choice = decided.get(_span_key(sig))
            mention = by_key.get(choice[0]) if choice else None
            if mention is not None and choice is not None:
                strength = choice[1]
            else:
                mention = self._nearest(sig, mentions)
                if mention is None:
                    continue
                strength = self._strength(abs(mention["sent_index"] - sig["sent_index"]))
            links.append(
                {
                    "mention": mention["id"],
                    "signal": sig["id"],
                    "strength": strength,
                    "sent_distance": abs(mention["sent_index"] - sig["sent_index"]),
                }
            )
        return {"hr_mentions": mentions, "signals": signals, "links": links}

    def _strength(self, distance: int) -> str:
        # Only for links the trained pass did not decide: no parse, so never "direct".
        if distance == 0:
            return "sentence"
        return "nearby" if distance <= self.window else "document"

    @staticmethod
    def _nearest(sig: dict[str, Any], mentions: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not mentions:
            return None

        def key(m: dict[str, Any]) -> tuple[int, int]:
            gap = max(0, m["start"] - sig["end"], sig["start"] - m["end"])
            return (abs(m["sent_index"] - sig["sent_index"]), gap)

        return min(mentions, key=key)

    # --- running ---------------------------------------------------------------------

    def pipe(
        self,
        texts: Iterable[str | Doc],
        *,
        batch_size: int = 16,
        chunk: int = 128,
        originals: Iterable[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield ``{"hr_mentions", "signals", "links"}`` for each text, in order.

        Runs inside the caller's :meth:`memory_zone` (or none); Docs never leave a chunk.

        Args:
            texts: Document texts, or Docs the fast pipeline's tokenizer made of them.
            batch_size: ``nlp.pipe`` batch size of both passes.
            chunk: Documents planned together, so that window texts of several
                documents share the trained pipeline's batches.
            originals: The text of each item of ``texts`` (optional; saves rebuilding
                the text of a Doc).
        """
        it = iter(texts)
        orig = iter(originals) if originals is not None else None
        while True:
            block = []
            known: list[str | None] = []
            for text in it:
                block.append(text)
                known.append(next(orig) if orig is not None else text if isinstance(text, str) else None)
                if len(block) >= chunk:
                    break
            if not block:
                return
            plans = [
                self._plan(doc, t)
                for doc, t in zip(self.fast.pipe(block, batch_size=batch_size), known, strict=True)
            ]
            cuts = [plan.text[w.start : w.end] for plan in plans for w in plan.windows]
            window_dicts = []
            for cut, doc in zip(
                cuts, self.full.pipe(cuts, batch_size=batch_size, disable=self.skip), strict=True
            ):
                wd: dict[str, Any] = doc_to_dict(doc, cut)
                wd["_sents"] = _sentence_ranges(doc)
                window_dicts.append(wd)
            pos = 0
            for plan in plans:
                n = len(plan.windows)
                yield self._merge(plan, window_dicts[pos : pos + n])
                pos += n

    def __call__(self, text: str) -> dict[str, Any]:
        """The merged spans of one text."""
        return next(self.pipe([text]))


def load_twopass(
    model: str = "auto", *, language: str = "en", window: int = 2, margin: int | None = None
) -> TwoPass:
    """Load the fast and the full pipeline and combine them.

    Args:
        model: spaCy pipeline name or path for the trained pass.
        language: Lexicon and model language.
        window: Linker window (sentences); also the core around each mention.
        margin: Extra context sentences for the trained pass (default: the context
            component's critical window).

    Returns:
        A :class:`TwoPass`.
    """
    from .pipeline import load_pipeline

    fast = load_pipeline(model, mode="fast", language=language, window=window)
    full = load_pipeline(model, mode="full", language=language, window=window)
    return TwoPass(fast, full, window=window, margin=margin)
