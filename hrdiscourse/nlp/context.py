"""ConText-style context for harm-reduction mentions and signals.

Modelled on medspaCy's ConText: *targets* are the spans the ``span_ruler`` components
put in ``doc.spans["hrd_mentions"]`` and ``doc.spans["hrd_signals"]``; *modifiers* are
the cues of the ``context_cues`` lexicon, each with a direction (forward, backward,
bidirectional) and a scope (tokens, or the sentence) that TERMINATION cues ("but",
"however", ";") cut short. PSEUDO cues ("not only") cancel the modifiers they overlap.
DENIAL cues ("calling X harm reduction doesn't make it one", "there is no such thing as",
"we reject harm reduction") negate harm-reduction mentions only, and cancel the NEGATION,
HEDGE and ATTRIBUTION cues inside them ("cannot claim to" denies; it does not hedge).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import srsly
from spacy.attrs import LOWER, ORTH, SENT_START
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token
from spacy.util import ensure_path, filter_spans, minibatch

from .extensions import SPAN_EXTENSIONS, doc_text, register_extensions
from .matching import AnchoredMatcher
from .stance import (
    STANCE_REACH,
    StanceModel,
    shipped_stance_model,
    stance_from_bytes,
    stance_rows,
    stance_to_bytes,
    stance_units,
)

MODIFIER_LABELS = ("NEGATION", "DENIAL", "HEDGE", "CRITICAL", "REPORTED_SPEECH")
#: Cue labels a DENIAL cue overrides when they lie inside it ("no" in "no such thing as").
_DENIAL_OVERRIDES = frozenset({"NEGATION", "HEDGE", "ATTRIBUTION"})
#: Contrastive negations whose scope a comma ends: "rather than prosecuting, officers ...",
#: "a relapse, not a failure, consistent with ..." (the bare "not" after a comma).
_CONTRAST_NEGATIONS = frozenset({"rather than", "instead of", "in lieu of"})
#: Dependency relations through which a span cannot be the content of a speech verb.
_NON_CONTENT_DEPS = frozenset({"nsubj", "nsubjpass", "dative", "iobj", "agent", "npadvmod", "expl"})
_SPEAKER_DEPS = frozenset(
    {"compound", "amod", "det", "poss", "flat", "nmod", "nummod", "case", "prep", "pobj"}
)
_FR_INVERTED_DEPS = frozenset({"nsubj", "obj", "flat:name", "appos", "nmod", "iobj"})
_DOUBLE_OPEN = {"“": "”", "«": "»", "„": "“"}
#: A cue word after one of these prefixes and a hyphen is negated by it ("non-stigmatizing").
_NEGATING_PREFIXES = frozenset({"non", "anti", "de", "un", "counter"})
#: How close (in tokens) a critical or hedge cue must stand before aligned-principle language
#: for that language to be what the text rejects ("claims to support decriminalization").
ALIGNED_CRITICAL_REACH = 4
_SINGLE_OPEN = {"‘": "’"}
_CLOSING = {**_DOUBLE_OPEN, **_SINGLE_OPEN}
#: Every character :func:`quote_regions` acts on (openers, closers, straight quotes).
_QUOTE_CHARS = re.compile("[" + re.escape("\"'" + "".join(_CLOSING) + "".join(_CLOSING.values())) + "]")


@dataclass
class _State:
    """What the cue pass of one doc hands to the stance and ATTRIBUTION steps."""

    doc: Doc
    targets: list[Span]
    cues: list[Cue]
    cues_by_sent: dict[int, list[Cue]]
    sent_of: list[int]
    terminators: list[Cue]
    flags: _Flags


@dataclass(frozen=True)
class Cue:
    """A matched modifier: its label, entry id, direction, scope and token offsets."""

    label: str
    id: str
    direction: str
    scope: int | None  # None = the whole sentence
    start: int
    end: int


#: Fewest docs :meth:`ContextComponent.pipe` scores with the stance model in one call.
STANCE_BATCH = 64


def _sentence_starts(doc: Doc) -> list[int]:
    """Token index where each sentence starts (read from one array, as ``Doc.sents`` splits)."""
    flags = doc.to_array(SENT_START)
    return [0, *(np.flatnonzero(flags[1:] == 1) + 1).tolist()]


def sentences(doc: Doc) -> list[Span]:
    """Return the sentences of ``doc``, or the whole doc as one when none are set.

    The same spans as ``list(doc.sents)``, without a Token object per token.
    """
    if not len(doc):
        return []
    if not doc.has_annotation("SENT_START"):
        return [doc[:]]
    if "sents" in doc.user_hooks:
        return list(doc.sents)
    starts = _sentence_starts(doc)
    return [Span(doc, a, b) for a, b in zip(starts, [*starts[1:], len(doc)], strict=True)]


class _LazySentences:
    """:func:`sentences` of a doc, each ``Span`` made when first asked for.

    Only the sentences holding a span are ever read, most of them only for their bounds
    (``starts``, ``ends``); building a ``Span`` for every sentence cost more than the rest of
    the sentence bookkeeping.
    """

    def __init__(self, doc: Doc, starts: list[int], made: list[Span] | None = None) -> None:
        self.doc = doc
        self.starts = starts
        self.ends = [*starts[1:], len(doc)] if made is None else [s.end for s in made]
        self._made: dict[int, Span] = dict(enumerate(made)) if made is not None else {}

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> Span:
        sent = self._made.get(i)
        if sent is None:
            sent = self._made[i] = Span(self.doc, self.starts[i], self.ends[i])
        return sent


def _sentence_layout(doc: Doc, sent_starts: np.ndarray) -> tuple[_LazySentences, list[int]]:
    """``(sentences(doc), sentence_index(doc))`` from the doc's ``SENT_START`` column.

    The sentences are read from the column when the doc has sentence starts and no ``sents``
    hook, else :func:`sentences` builds them (all at once).
    """
    if not len(doc) or not doc.has_annotation("SENT_START") or "sents" in doc.user_hooks:
        # A doc without sentences (a ``sents`` hook that gives none) is one sentence.
        sents = sentences(doc) or [doc[:]]
        return _LazySentences(doc, [s.start for s in sents], sents), sentence_index(doc)
    starts = [0, *(np.flatnonzero(sent_starts[1:] == 1) + 1).tolist()]
    marks = np.zeros(len(doc), dtype=np.int64)
    marks[starts[1:]] = 1
    return _LazySentences(doc, starts), np.cumsum(marks).tolist()


class _Flags:
    """Reads and writes the five ``Span._.hrd_*`` flags of one doc.

    A flag set with ``span._.name = value`` lands in ``doc.user_data`` under
    ``("._.", name, span.start_char, span.end_char)`` (spaCy's ``Underscore``). While the five
    extensions are plain stored values (no getter, setter or method: what
    :func:`~.extensions.register_extensions` declares) that dict is read and written directly,
    without an ``Underscore`` object per access; otherwise every access goes through ``span._``.
    """

    def __init__(self, doc: Doc) -> None:
        self.data: dict[Any, Any] | None = doc.user_data if _plain_flags() else None

    def set(self, span: Span, name: str, value: Any) -> None:
        if self.data is None:
            setattr(span._, name, value)
        else:
            self.data[("._.", name, span.start_char, span.end_char)] = value

    def set_all(
        self, span: Span, negated: bool, quoted: bool, hedged: bool, critical: bool, speaker: str | None
    ) -> None:
        """Set the five flags in the order the cue pass decides them."""
        data = self.data
        if data is None:
            ext = span._
            ext.hrd_negated = negated
            ext.hrd_quoted = quoted
            ext.hrd_hedged = hedged
            ext.hrd_critical = critical
            ext.hrd_speaker = speaker
            return
        start, end = span.start_char, span.end_char
        data[("._.", "hrd_negated", start, end)] = negated
        data[("._.", "hrd_quoted", start, end)] = quoted
        data[("._.", "hrd_hedged", start, end)] = hedged
        data[("._.", "hrd_critical", start, end)] = critical
        data[("._.", "hrd_speaker", start, end)] = speaker

    def get(self, span: Span, name: str) -> Any:
        if self.data is None:
            return getattr(span._, name)
        return self.data.get(("._.", name, span.start_char, span.end_char), SPAN_EXTENSIONS[name])


def _plain_flags() -> bool:
    """Whether the five span flags are plain stored values with hrdiscourse's defaults.

    A default that is a dict, list or set would be copied into ``user_data`` on reading by
    ``span._``; hrdiscourse's defaults are not, but an extension re-registered by someone else
    may be anything, so then :class:`_Flags` goes through ``span._``.
    """
    for name, default in SPAN_EXTENSIONS.items():
        ext = Span.get_extension(name)
        if ext is None or ext[1:] != (None, None, None) or ext[0] is not default:
            return False
    return True


def sentence_index(doc: Doc) -> list[int]:
    """Return, for every token, the index of its sentence."""
    if not len(doc):
        return []
    if not doc.has_annotation("SENT_START") or "sents" in doc.user_hooks:
        out = [0] * len(doc)
        for i, sent in enumerate(sentences(doc)):
            out[sent.start : sent.end] = [i] * len(sent)
        return out
    marks = np.zeros(len(doc), dtype=np.int64)
    marks[_sentence_starts(doc)[1:]] = 1
    return np.cumsum(marks).tolist()


#: What separates paragraphs for :func:`quote_regions` (a mark left open ends with its paragraph).
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def quote_regions(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` character ranges that stand inside quotation marks.

    Straight double quotes alternate open/close within a paragraph; curly quotes and
    guillemets pair with their closing mark; a straight single quote opens only after a
    space or bracket and before a letter, so apostrophes ("workers' rights") are ignored.

    One pass over the quotation marks of the whole text; the state starts afresh at each
    paragraph (after each blank line). A mark's neighbours are read from the text: next to a
    paragraph's edge they are line breaks, which count as the spaces the paragraph's own
    edges would.
    """
    regions: list[tuple[int, int]] = []
    marks = _QUOTE_CHARS.finditer(text)
    first = next(marks, None)
    if first is None:
        return regions
    breaks = [m.start() for m in _PARAGRAPH_BREAK.finditer(text, first.start())]
    breaks.append(len(text) + 1)
    b = 0
    n = len(text)
    open_double: int | None = None
    stack: list[tuple[str, int]] = []
    open_single: int | None = None
    for m in itertools.chain((first,), marks):
        i = m.start()
        if i >= breaks[b]:  # a new paragraph: nothing stays open
            while i >= breaks[b]:
                b += 1
            open_double, open_single = None, None
            stack = []
        ch = text[i]
        if ch == '"':
            if open_double is None:
                open_double = i
            else:
                regions.append((open_double + 1, i))
                open_double = None
        elif ch in _DOUBLE_OPEN or ch in _SINGLE_OPEN:
            stack.append((ch, i))
        elif stack and ch == _CLOSING.get(stack[-1][0]):
            if ch == "’" and i + 1 < n and text[i + 1].isalpha():
                continue  # an apostrophe (don’t, worker’s)
            _, start = stack.pop()
            regions.append((start + 1, i))
        elif ch == "'":
            prev = text[i - 1] if i else " "
            nxt = text[i + 1] if i + 1 < n else " "
            if open_single is None and (prev.isspace() or prev in "([{—-") and nxt.isalpha():
                open_single = i
            elif open_single is not None and (prev.isalpha() or prev in ".,!?") and not nxt.isalpha():
                regions.append((open_single + 1, i))
                open_single = None
    return regions


def _phrase_to_tokens(phrase: str, make_doc: Callable[[str], Doc] | None) -> list[dict[str, Any]]:
    words = [t.text for t in make_doc(phrase)] if make_doc is not None else phrase.split()
    return [{"LOWER": w.lower()} for w in words]


class ContextComponent:
    """Set ConText flags on harm-reduction mentions and signals, and apply lexicon context checks.

    Requires ``doc.spans[mentions_key]`` and ``doc.spans[signals_key]`` (the span rulers),
    sentence boundaries if available (parser or sentencizer; else the doc is one sentence),
    and uses the dependency parse when present for ``hrd_speaker``.

    Assigns:
        - drops spans whose lexicon entry has a ``requires_context`` that is not met or an
          ``excludes_context`` that is, and sorts both span groups by position;
        - ``Span._.hrd_negated``, ``hrd_hedged``, ``hrd_quoted``, ``hrd_critical`` (bool) and
          ``hrd_speaker`` (str or None) on every span of both groups.

    Cues and constraints arrive through :meth:`initialize` (or :meth:`add_cues`,
    :meth:`set_constraints`) and are saved by :meth:`to_disk`.
    """

    def __init__(
        self,
        nlp: Language,
        name: str = "hrd_context",
        *,
        mentions_key: str = "hrd_mentions",
        signals_key: str = "hrd_signals",
        critical_window: int = 1,
    ) -> None:
        register_extensions()
        self.name = name
        self.vocab = nlp.vocab
        self._make_doc = nlp.make_doc
        self.mentions_key = mentions_key
        self.signals_key = signals_key
        self.critical_window = critical_window
        self.cues: list[dict[str, Any]] = []
        self.constraints: dict[str, dict[str, Any]] = {}
        self._constraint_sets: dict[int, dict[str, tuple[frozenset[int], int]]] = {}
        self._matcher = AnchoredMatcher(self.vocab)
        self._cue_info: dict[int, dict[str, Any]] = {}
        self.lang = nlp.lang
        #: The learned passage stance for ``hrd_critical`` (English; see :mod:`.stance`).
        self.stance: StanceModel | None = None

    # ------------------------------------------------------------------ data
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
        cues: list[dict[str, Any]] | None = None,
        constraints: dict[str, dict[str, Any]] | None = None,
        stance: StanceModel | str | None = "shipped",
    ) -> None:
        """Load the cues and the per-entry context constraints (replacing any present).

        Args:
            get_examples: Unused (spaCy's initialize protocol).
            nlp: The pipeline (its tokenizer splits phrase cues).
            cues: Dicts with ``id``, ``label``, ``pattern``, ``direction``, ``scope``.
            constraints: ``{entry_id: {"requires": {"any", "window"}, "excludes": {...}}}``.
            stance: The passage stance model for ``hrd_critical``: ``"shipped"`` (the
                shipped English model; none for other languages), a
                :class:`~hrdiscourse.nlp.stance.StanceModel`, or None (cues only).
        """
        if nlp is not None:
            self._make_doc = nlp.make_doc
            self.lang = nlp.lang
        if isinstance(stance, str):
            stance = shipped_stance_model() if self.lang == "en" else None
        self.stance = stance
        self.cues = []
        self._matcher = AnchoredMatcher(self.vocab)
        self._cue_info = {}
        self.add_cues(cues or [])
        self.set_constraints(constraints or {})

    def add_cues(self, cues: Iterable[dict[str, Any]]) -> None:
        """Add modifier cues (phrase strings are turned into LOWER token patterns)."""
        for cue in cues:
            pattern = cue["pattern"]
            if isinstance(pattern, str):
                pattern = _phrase_to_tokens(pattern, self._make_doc)
            scope = cue.get("scope", "sentence")
            stored = {
                "id": str(cue["id"]),
                "label": str(cue["label"]),
                "pattern": pattern,
                "direction": cue.get("direction") or "bidirectional",
                "scope": scope if scope is not None else "sentence",
            }
            self.cues.append(stored)
            key = self.vocab.strings.add(f"hrd_cue:{stored['id']}")
            self._matcher.add(key, [pattern])
            self._cue_info[key] = stored

    def set_constraints(self, constraints: dict[str, dict[str, Any]]) -> None:
        """Set the ``requires``/``excludes`` context checks, keyed by lexicon entry id."""
        self.constraints = {
            str(k): {
                kind: {"any": sorted(set(v[kind]["any"])), "window": int(v[kind]["window"])}
                for kind in ("requires", "excludes")
                if kind in v
            }
            for k, v in constraints.items()
        }
        # Keyed by the entry id's hash (``Span.id``), the words as string hashes, compared
        # with the tokens' LOWER column.
        self._constraint_sets = {
            get_string_id(k): {
                kind: (frozenset(map(get_string_id, spec["any"])), spec["window"]) for kind, spec in v.items()
            }
            for k, v in self.constraints.items()
        }

    # ------------------------------------------------------------------ processing
    def __call__(self, doc: Doc) -> Doc:
        state = self._rule_flags(doc)
        if state is not None:
            self._finish([state])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterable[Doc]:
        """Process a stream of docs; the stance model scores each batch in one call.

        Batches hold at least :data:`STANCE_BATCH` docs: each call of the stance model has a
        fixed cost (five vectorizers), and a unit's score does not depend on its batch.
        """
        for batch in minibatch(stream, size=max(batch_size, STANCE_BATCH)):
            states = [state for state in map(self._rule_flags, batch) if state is not None]
            self._finish(states)
            yield from batch

    def _rule_flags(self, doc: Doc) -> _State | None:
        """Apply the constraints and the cue flags; return what :meth:`_finish` needs."""
        columns = doc.to_array([LOWER, ORTH, SENT_START])
        sents, sent_of = _sentence_layout(doc, columns[:, 2])
        lowers = columns[:, 0].tolist()
        groups: dict[str, list[Span]] = {}
        for key in (self.mentions_key, self.signals_key):
            if key in groups:
                spans = groups[key]
            else:
                spans = list(doc.spans[key]) if key in doc.spans else []
            checked = self._constraint_sets  # most entries have no context check
            kept = [
                s for s in spans if s.id not in checked or self._passes_constraints(s, sents, sent_of, lowers)
            ]
            # Longest per label after the context checks, so a failed long match does not hide
            # a valid shorter one; spans of different labels may overlap.
            # Unsorted in between: the sort below orders them completely (no two spans of
            # one label overlap after longest_per_label, so merge_adjacent meets no ties).
            kept = merge_adjacent(doc, longest_per_label(kept, ordered=False), ordered=False)
            # The group's spans are these very spans: no need to read them back from ``doc.spans``.
            groups[key] = sorted(set(kept), key=lambda s: (s.start, s.end, s.label_, s.id_))
            doc.spans[key] = groups[key]
        mentions = groups[self.mentions_key]
        targets = mentions + groups[self.signals_key]
        if not targets:
            return None
        cues = self._match_cues(doc, columns)
        # A speech verb also ends a modifier's scope ('"... without conditions," said the peer worker').
        terminators = [c for c in cues if c.label in ("TERMINATION", "REPORTED_SPEECH")]
        regions = quote_regions(doc_text(doc))
        # A span opens inside quotation marks when a region starting at or before it ends after
        # it: the regions sorted by start, with the furthest end reached so far.
        by_start = sorted(regions)
        region_starts = [a for a, _ in by_start]
        region_reach = list(itertools.accumulate((b for _, b in by_start), max))
        # Strong critical cues (scope "sentence") mark their sentence and its neighbours; weak
        # ones (a token scope) mark only the co-opting/extension signals next to them.
        critical_sents = {sent_of[c.start] for c in cues if c.label == "CRITICAL" and c.scope is None}
        weak_critical = [c for c in cues if c.label == "CRITICAL" and c.scope is not None]
        speech = [c for c in cues if c.label == "REPORTED_SPEECH"]
        parsed = doc.has_annotation("DEP")
        cues_by_sent: dict[int, list[Cue]] = {}
        for cue in cues:
            cues_by_sent.setdefault(sent_of[cue.start], []).append(cue)
        # Where a NEGATION cue starts, per sentence (a span opening there opens negated).
        negation_starts = {
            si: {c.start for c in sent_cues if c.label == "NEGATION"}
            for si, sent_cues in cues_by_sent.items()
        }
        sent_mentions: dict[int, list[Span]] = {}
        for mention in mentions:
            sent_mentions.setdefault(sent_of[mention.start], []).append(mention)
        flags = _Flags(doc)
        no_cues: list[Cue] = []
        # Whether a sentence lies within ``critical_window`` of a strong critical cue.
        strong_sents: dict[int, bool] = {}
        for span in targets:
            si = sent_of[span.start]
            sent_cues = cues_by_sent.get(si, no_cues)
            label = span.label_
            in_sent = [c for c in sent_cues if not _overlaps(c, span)] if sent_cues else no_cues
            # A co-opting phrase that opens with its own negation ("No one has to") is negated; an
            # aligned one ("without judgement and without conditions") states the principle.
            opens_negated = bool(sent_cues) and span.start in negation_starts[si]
            if label.startswith("ALIGNED_") and opens_negated:
                negated = False
            else:
                negated = (
                    opens_negated
                    or self._modified(span, in_sent, "NEGATION", terminators)
                    or (label == "HARM_REDUCTION" and self._modified(span, in_sent, "DENIAL", terminators))
                )
            # Quoted when the phrase opens inside quotation marks (a closing mark may fall inside it).
            start_char = span.start_char
            k = bisect.bisect_right(region_starts, start_char)
            quoted = k > 0 and region_reach[k - 1] > start_char
            hedged = self._hedged(span, in_sent, terminators, sent_mentions.get(si, []), regions)
            if si not in strong_sents:
                strong_sents[si] = any(abs(si - cs) <= self.critical_window for cs in critical_sents)
            critical = self._critical(
                span, si, strong_sents[si], weak_critical, sent_cues, sent_of, terminators
            )
            speaker = find_speaker(span, sents[si], speech) if parsed else None
            flags.set_all(span, negated, quoted, hedged, critical, speaker)
        return _State(doc, targets, cues, cues_by_sent, sent_of, terminators, flags)

    def _finish(self, states: list[_State]) -> None:
        """The stance model (one batch for all ``states``), then the ATTRIBUTION hedges."""
        if self.stance is not None:
            self._apply_stance([st for st in states if len(st.doc.spans[self.mentions_key])])
        for st in states:
            self._attribution_hedges(st.targets, st.cues_by_sent, st.sent_of, st.terminators, st.flags)

    def _attribution_hedges(
        self,
        targets: list[Span],
        cues_by_sent: dict[int, list[Cue]],
        sent_of: list[int],
        terminators: list[Cue],
        flags: _Flags,
    ) -> None:
        """Hedge a critical harm-reduction mention that reports someone else's naming.

        ATTRIBUTION cues ("describes X as", "sold as", "talks about") distance the author
        from the term only in critical text; in neutral reporting they do not hedge.
        """
        for span in targets:
            if (
                span.label_ != "HARM_REDUCTION"
                or flags.get(span, "hrd_hedged")
                or not flags.get(span, "hrd_critical")
            ):
                continue
            si = sent_of[span.start]
            cues = cues_by_sent.get(si, [])
            near = [c for c in cues if c.label == "ATTRIBUTION" and not _overlaps(c, span)]
            if near and self._modified(span, near, "ATTRIBUTION", terminators):
                flags.set(span, "hrd_hedged", True)

    def _apply_stance(self, states: list[_State]) -> None:
        """Decide ``hrd_critical`` with the passage stance model, one call for all ``states``.

        Only the units (sentencizer sentences) that hold a span within ``STANCE_REACH`` units of
        a harm-reduction mention are scored, in documents with a mention (the caller passes
        only those).
        """
        if not states or self.stance is None:
            return
        built = [
            stance_rows(
                st.doc, stance_units(st.doc), st.targets, st.cues, reach=STANCE_REACH, flags=st.flags.get
            )
            for st in states
        ]
        proba = iter(self.stance.predict_proba([row for b in built for row in b.rows]))
        for st, b in zip(states, built, strict=True):
            by_unit = {u: next(proba) for u in b.units}
            for span, unit in zip(st.targets, b.unit_of_span, strict=True):
                if unit in by_unit:  # else too far from a mention: the cues decide
                    rule = st.flags.get(span, "hrd_critical")
                    st.flags.set(span, "hrd_critical", self.stance.decide(span.label_, rule, by_unit[unit]))

    def _critical(
        self,
        span: Span,
        si: int,
        strong: bool,
        weak: list[Cue],
        sent_cues: list[Cue],
        sent_of: list[int],
        terminators: list[Cue],
    ) -> bool:
        """Whether ``span`` sits in text that names and rejects co-optation.

        Harm-reduction mentions and signals are critical within ``critical_window`` sentences
        of a strong cue; co-opting and extension signals also next to a weak cue. Aligned-principle
        language is critical only when it is itself what the text rejects: a strong context and a
        critical or hedge cue right before it ("claims to support decriminalization", "erases
        their agency"). ``strong``: whether sentence ``si`` lies within ``critical_window``
        sentences of a strong cue.
        """
        label = span.label_
        if label.startswith("ALIGNED_"):
            return strong and any(
                c.label in ("CRITICAL", "HEDGE")
                and c.end <= span.start
                and span.start - c.end <= ALIGNED_CRITICAL_REACH
                and not _terminated(c.end, span.start, terminators)
                for c in sent_cues
            )
        if strong:
            return True
        if span.label_ == "HARM_REDUCTION" or not weak:
            return False
        near = [c for c in weak if sent_of[c.start] == si]
        if any(_overlaps(c, span) for c in near):
            return True
        return self._modified(span, near, "CRITICAL", [])

    def _hedged(
        self,
        span: Span,
        cues: list[Cue],
        terminators: list[Cue],
        mentions: list[Span],
        regions: list[tuple[int, int]],
    ) -> bool:
        """Whether a HEDGE cue reaches ``span``.

        A forward hedge distances the phrase it opens ("so-called harm reduction",
        "what it calls tobacco harm reduction"): a harm-reduction mention ends that phrase, so a
        signal after the mention is not hedged ("purported harm reduction benefits of mandatory
        treatment orders"), unless both stand in one quotation ('what one witness called
        "harm reduction for prostituted women"').
        """
        hedges = [c for c in cues if c.label == "HEDGE"]
        if not hedges:
            return False
        ends = [
            Cue("TERMINATION", "", "bidirectional", 0, m.start, m.end)
            for m in mentions
            if m.end <= span.start
            and span.label_ != "HARM_REDUCTION"
            and not any(a <= m.start_char and span.start_char < b for a, b in regions)
        ]
        forward = [c for c in hedges if c.direction == "forward"]
        other = [c for c in hedges if c.direction != "forward"]
        return self._modified(span, forward, "HEDGE", terminators + ends) or self._modified(
            span, other, "HEDGE", terminators
        )

    def _passes_constraints(
        self, span: Span, sents: _LazySentences, sent_of: list[int], lowers: list[int]
    ) -> bool:
        spec = self._constraint_sets.get(span.id)
        if not spec:
            return True
        # The sentence's bounds (a non-empty doc has sentences, and only it has spans).
        si = sent_of[span.start]
        sent_start, sent_end = sents.starts[si], sents.ends[si]
        for kind, (words, window) in spec.items():
            lo = max(sent_start, span.start - window)
            hi = min(sent_end, span.end + window)
            found = not words.isdisjoint(lowers[lo : span.start]) or not words.isdisjoint(
                lowers[span.end : hi]
            )
            if kind == "requires" and not found:
                return False
            if kind == "excludes" and found:
                return False
        return True

    def _match_cues(self, doc: Doc, columns: np.ndarray | None = None) -> list[Cue]:
        """The doc's cues, filtered and bounded as :class:`Cue` objects sorted by position.

        ``columns``: ``doc.to_array([LOWER, ORTH, SENT_START])`` when the caller has it.
        """
        if columns is None:
            columns = doc.to_array([LOWER, ORTH, SENT_START])
        words = _Words(doc, columns)
        cues = []
        for match_id, start, end in self._matcher(doc):
            info = self._cue_info[match_id]
            scope = info["scope"]
            cues.append(
                Cue(
                    label=info["label"],
                    id=info["id"],
                    direction=info["direction"],
                    scope=None if scope == "sentence" else int(scope),
                    start=start,
                    end=end,
                )
            )
        # "heat-not-burn": a cue word inside a hyphenated compound is not a modifier. Both
        # checks need a hyphen right before the cue.
        hyphens = words.hyphens
        cues = [
            c
            for c in cues
            if c.start - 1 not in hyphens
            or (not _in_hyphen_compound(words, c) and not _negated_by_prefix(words, c))
        ]
        pseudo = [c for c in cues if c.label == "PSEUDO"]
        if pseudo:
            cues = [
                c
                for c in cues
                if c.label in ("PSEUDO", "TERMINATION", "REPORTED_SPEECH")
                or not any(_overlaps(c, p) for p in pseudo)
            ]
        denials = [c for c in cues if c.label == "DENIAL"]
        if denials:
            cues = [
                c
                for c in cues
                if c.label not in _DENIAL_OVERRIDES
                or not any(d.start <= c.start and c.end <= d.end for d in denials)
            ]
        cues = [_comma_bounded(words, c) for c in cues]
        return sorted(cues, key=lambda c: (c.start, c.end))

    @staticmethod
    def _modified(span: Span, cues: list[Cue], label: str, terminators: list[Cue]) -> bool:
        for cue in cues:
            if cue.label != label:
                continue
            if cue.direction in ("forward", "bidirectional") and cue.end <= span.start:
                gap = span.start - cue.end
                if (cue.scope is None or gap <= cue.scope) and not _terminated(
                    cue.end, span.start, terminators
                ):
                    return True
            if cue.direction in ("backward", "bidirectional") and span.end <= cue.start:
                gap = cue.start - span.end
                if (cue.scope is None or gap <= cue.scope) and not _terminated(
                    span.end, cue.start, terminators
                ):
                    return True
        return False

    # ------------------------------------------------------------------ serialization
    def _state(self) -> dict[str, Any]:
        return {
            "cues": self.cues,
            "constraints": self.constraints,
            "stance_meta": self.stance.meta if self.stance is not None else None,
            "cfg": {
                "mentions_key": self.mentions_key,
                "signals_key": self.signals_key,
                "critical_window": self.critical_window,
            },
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        cfg = state.get("cfg", {})
        self.mentions_key = cfg.get("mentions_key", self.mentions_key)
        self.signals_key = cfg.get("signals_key", self.signals_key)
        self.critical_window = cfg.get("critical_window", self.critical_window)
        self.initialize(cues=state.get("cues", []), constraints=state.get("constraints", {}), stance=None)

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """Serialize cues, constraints, settings and the stance model (skops bytes)."""
        state = self._state()
        state["stance_skops"] = stance_to_bytes(self.stance) if self.stance is not None else None
        return srsly.msgpack_dumps(state)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> ContextComponent:
        """Load what :meth:`to_bytes` wrote."""
        state = srsly.msgpack_loads(bytes_data)
        self._load_state(state)
        if state.get("stance_skops") is not None and state.get("stance_meta") is not None:
            self.stance = stance_from_bytes(state["stance_skops"], state["stance_meta"])
        return self

    def to_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> None:
        """Write ``context.json`` (cues, constraints, settings) and ``stance.skops`` into ``path``."""
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "context.json", self._state())
        if self.stance is not None:
            (path / "stance.skops").write_bytes(stance_to_bytes(self.stance))

    def from_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> ContextComponent:
        """Load what :meth:`to_disk` wrote."""
        path = ensure_path(path)
        state = srsly.read_json(path / "context.json")
        self._load_state(state)
        if state.get("stance_meta") is not None and (path / "stance.skops").is_file():
            where = str(path / "stance.skops")
            self.stance = stance_from_bytes((path / "stance.skops").read_bytes(), state["stance_meta"], where)
        return self


def longest_per_label(spans: Iterable[Span], *, ordered: bool = True) -> list[Span]:
    """Keep, per label, the longest of overlapping spans (spans of different labels may overlap).

    ``ordered=False`` leaves the result unsorted, for a caller that sorts it anyway.
    """
    by_label: dict[str, list[Span]] = {}
    for span in spans:
        by_label.setdefault(span.label_, []).append(span)
    # filter_spans keeps a lone span as it is
    kept = [s for group in by_label.values() for s in (group if len(group) == 1 else filter_spans(group))]
    return sorted(kept, key=_span_order) if ordered else kept


def merge_adjacent(doc: Doc, spans: list[Span], *, ordered: bool = True) -> list[Span]:
    """Join spans of the same label that touch ("police" + "raids" -> "police raids").

    The joined span keeps the first span's entry id. ``ordered=False`` leaves the result
    unsorted, for a caller that sorts it anyway.
    """
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.label_, s.start, s.end)):
        last = out[-1] if out else None
        if last is not None and last.label_ == span.label_ and last.end == span.start:
            out[-1] = Span(doc, last.start, span.end, label=last.label_, span_id=last.id_)
        else:
            out.append(span)
    return sorted(out, key=_span_order) if ordered else out


def _span_order(span: Span) -> tuple[int, int, int, int, int]:
    """The key ``Span.__lt__`` compares (spaCy 3), for ``sorted(spans, key=_span_order)``.

    The same order as ``sorted(spans)`` for spans of one doc, without the two tuples
    ``Span.__richcmp__`` builds on every comparison (``tests/test_nlp_components.py``
    checks that the orders agree).
    """
    return (span.start_char, span.end_char, span.label, span.kb_id, span.id)


def _overlaps(cue: Cue | Span, span: Span | Cue) -> bool:
    return cue.start < span.end and span.start < cue.end


_HYPHEN = get_string_id("-")
_COMMA = get_string_id(",")
_NEGATING_PREFIX_IDS = frozenset(map(get_string_id, _NEGATING_PREFIXES))


class _Words:
    """The token columns the cue filters read, as plain ints (no ``Token`` object per look).

    A token's ``ORTH``/``LOWER`` is the hash of its text/lowercase text, so comparing
    hashes is comparing the strings; ``SENT_START`` is 1 where ``Token.is_sent_start`` is True.
    """

    def __init__(self, doc: Doc, columns: np.ndarray) -> None:
        self.doc = doc
        self.n = len(doc)
        self.lowers = columns[:, 0].tolist()
        self.orths = columns[:, 1].tolist()
        self.sent_starts = (columns[:, 2] == 1).tolist()
        self.hyphens = frozenset(np.flatnonzero(columns[:, 1] == _HYPHEN).tolist())


def _in_hyphen_compound(words: _Words, cue: Cue) -> bool:
    orths = words.orths
    return (
        cue.start > 0 and cue.end < words.n and orths[cue.start - 1] == _HYPHEN and orths[cue.end] == _HYPHEN
    )


def _negated_by_prefix(words: _Words, cue: Cue) -> bool:
    """A critical cue word after "non-", "anti-", "de-" ("non-stigmatizing", "anti-stigma")."""
    if cue.label != "CRITICAL" or cue.start < 2:
        return False
    return words.orths[cue.start - 1] == _HYPHEN and words.lowers[cue.start - 2] in _NEGATING_PREFIX_IDS


def _comma_bounded(words: _Words, cue: Cue) -> Cue:
    """End a contrastive negation's forward scope at the next comma.

    "Rather than prosecuting, officers ..." and "a relapse, not a failure, consistent with our
    harm reduction philosophy": the contrast negates only the phrase up to the comma.
    """
    if cue.label != "NEGATION" or cue.direction != "forward":
        return cue
    orths = words.orths
    if cue.end - cue.start == 1:  # the token's text, looked up by its ORTH hash
        text = words.doc.vocab.strings[orths[cue.start]].lower()
    else:
        text = words.doc[cue.start : cue.end].text.lower()
    bare_not = text in ("not", "never") and cue.start > 0 and orths[cue.start - 1] == _COMMA
    if not bare_not and text not in _CONTRAST_NEGATIONS:
        return cue
    n = words.n
    stop = n if cue.scope is None else min(n, cue.end + cue.scope + 1)
    for i in range(cue.end, stop):
        if orths[i] == _COMMA:
            return replace(cue, scope=i - cue.end)
        if words.sent_starts[i]:
            break
    return cue


def _terminated(lo: int, hi: int, terminators: list[Cue]) -> bool:
    return any(lo <= t.start and t.end <= hi for t in terminators)


# ---------------------------------------------------------------------- speaker
def _speaker_phrase(head: Token) -> str:
    """The subject's name phrase: the head with its compounds, modifiers and possessors."""
    keep = {head.i}
    todo = [head]
    while todo:
        tok = todo.pop()
        for child in tok.children:
            if child.dep_ in _SPEAKER_DEPS and child.i not in keep:
                if child.dep_ == "prep" and child.lower_ != "of":
                    continue
                keep.add(child.i)
                todo.append(child)
    lo, hi = min(keep), max(keep)
    # Cut at a comma (an apposition or a relative clause that slipped in).
    words = head.doc[lo : hi + 1]
    text = words.text
    if "," in text and head.i > lo:
        text = head.doc[lo : head.i + 1].text
    return text.strip()


def _subject_of(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            return child
    if verb.doc.lang_ == "fr":
        # French puts the speaker after the verb ("..., a déclaré la ministre"), and the
        # small French parser labels it obj or flat:name: take the first noun to the right.
        for child in verb.children:
            if child.i > verb.i and child.pos_ in ("NOUN", "PROPN") and child.dep_ in _FR_INVERTED_DEPS:
                return child
    return None


def find_speaker(span: Span, sent: Span, speech_cues: list[Cue]) -> str | None:
    """Return who says ``span`` when it is reported speech, else ``None``.

    Looks for "according to X" in the sentence, then for a speech verb (a
    REPORTED_SPEECH cue) whose clause holds the span — the span's root climbs to the
    verb, or the verb hangs off the span's clause as ``parataxis``/``ccomp`` (the
    quoted-first order: '"Exit programs are harm reduction," the minister said.') — and
    returns that verb's subject phrase.
    """
    cue_tokens = {c.start: c for c in speech_cues if sent.start <= c.start < sent.end}
    # "according to X"
    for cue in cue_tokens.values():
        if cue.id and span.doc[cue.start].lower_ == "according" and cue.end - cue.start == 2:
            to = span.doc[cue.start + 1]
            objs = [c for c in to.children if c.dep_ == "pobj"]
            if objs and not (cue.start <= span.start < objs[0].right_edge.i + 1):
                return _speaker_phrase(objs[0])
    # French "selon X": the preposition hangs off X as `case`.
    for cue in cue_tokens.values():
        tok = span.doc[cue.start]
        if tok.lower_ == "selon" and tok.dep_ == "case" and not (span.start <= tok.head.i < span.end):
            return re.sub(r"^(?i:selon)\s+", "", _speaker_phrase(tok.head))
    speech_verbs = {i for i, c in cue_tokens.items() if c.end - c.start == 1}
    root = span.root
    path = [root, *root.ancestors]
    span_tokens = set(range(span.start, span.end))
    for depth, node in enumerate(path):
        if node.i in speech_verbs and depth > 0:
            via = path[depth - 1]
            subj = _subject_of(node)
            if via.dep_ not in _NON_CONTENT_DEPS and subj is not None and subj.i not in span_tokens:
                if not any(t.i in span_tokens for t in subj.subtree):
                    return _speaker_phrase(subj)
        for child in node.children:
            if child.i in speech_verbs and child.dep_ in ("parataxis", "ccomp", "advcl", "conj"):
                subj = _subject_of(child)
                if subj is not None and not any(t.i in span_tokens for t in subj.subtree):
                    return _speaker_phrase(subj)
        if node.dep_ == "ROOT":
            break
    return None
