"""Link each signal to its nearest harm-reduction mention, with a link strength.

Strengths (DOMAIN.md §2): ``direct`` (same sentence and syntactically tied: both hang
off the same predicate without crossing a clause boundary; without a parse, at most
``direct_max_tokens`` apart with no clause-boundary token between), ``sentence``,
``nearby`` (within ``window`` sentences) and ``document``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from .context import sentence_index
from .extensions import register_extensions

STRENGTHS = ("direct", "sentence", "nearby", "document")
#: Dependency relations that open a new clause: a path through one is not a direct tie.
CLAUSE_BOUNDARY_DEPS = frozenset({"advcl", "relcl", "parataxis", "csubj", "csubjpass", "ccomp_sep", "mark"})
#: A relative clause headed by one of these frames its antecedent ("the program, which the
#: society describes as part of its harm reduction approach, helps women leave the sex
#: trade"; "support to help people leave sex work, which it describes as a harm reduction
#: approach"): the path may cross it, the tie is the framing itself.
_FRAMING_VERBS = (
    "describe call term frame present label bill brand characterize characterise consider position "
    "promote tout pitch market define regard view classify count include fund deliver offer"
)
#: Word forms, not lemmas: the lemmatizer may be off (the default mode skips it).
FRAMING_FORMS = frozenset(
    {"is", "are", "was", "were", "be", "been", "being"}
    | {
        form
        for verb in _FRAMING_VERBS.split()
        for form in (
            verb,
            verb + "s",
            verb + "d" if verb.endswith("e") else verb + "ed",
            (verb[:-1] if verb.endswith("e") else verb) + "ing",
        )
    }
)
#: Tokens that mark a clause boundary when there is no parse.
BOUNDARY_WORDS = frozenset(
    {
        ",",
        ";",
        ":",
        "—",
        "–",
        "(",
        ")",
        "but",
        "however",
        "while",
        "whereas",
        "although",
        "though",
        "because",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "if",
        "unless",
        "since",
        "yet",
    }
)


def syntactically_tied(a: Span, b: Span) -> bool:
    """Return whether two spans of one parsed sentence share a predicate without a clause boundary.

    The path from each span's root up to their lowest common ancestor must not pass an
    adverbial, relative or paratactic clause, nor a conjunction of verbs; a relative clause
    that frames its antecedent (:data:`FRAMING_FORMS`) is no boundary.
    """
    path_a = [a.root, *a.root.ancestors]
    path_b = [b.root, *b.root.ancestors]
    index_b = {t.i: k for k, t in enumerate(path_b)}
    lca_a = next((k for k, t in enumerate(path_a) if t.i in index_b), None)
    if lca_a is None:
        return False
    lca_b = index_b[path_a[lca_a].i]
    for tok in path_a[:lca_a] + path_b[:lca_b]:
        if tok.dep_ == "relcl" and tok.lower_ in FRAMING_FORMS:
            continue
        if tok.dep_ in CLAUSE_BOUNDARY_DEPS:
            return False
        if tok.dep_ == "conj" and tok.pos_ in ("VERB", "AUX") and tok.head.pos_ in ("VERB", "AUX"):
            return False
    return True


def adjacent_without_boundary(a: Span, b: Span, max_tokens: int) -> bool:
    """Fallback without a parse: at most ``max_tokens`` apart and no boundary token between."""
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    if hi < lo:  # overlapping spans
        return True
    if hi - lo > max_tokens:
        return False
    doc = a.doc
    return not any(doc[i].lower_ in BOUNDARY_WORDS for i in range(lo, hi))


class LinkerComponent:
    """Link every span of ``doc.spans[signals_key]`` to the nearest span of ``doc.spans[mentions_key]``.

    Requires the two span groups (sorted by the ``hrd_context`` component), sentence
    boundaries when available and the dependency parse for ``direct`` ties (a token
    distance fallback otherwise).

    Assigns:
        ``Doc._.hrd_links``: a list of dicts ``{"mention": int, "signal": int, "strength":
        str, "sent_distance": int, "token_distance": int}``; ``mention``/``signal`` index
        the two span groups. No mention in the doc -> an empty list.
    """

    def __init__(
        self,
        nlp: Language,
        name: str = "hrd_linker",
        *,
        mentions_key: str = "hrd_mentions",
        signals_key: str = "hrd_signals",
        window: int = 2,
        direct_max_tokens: int = 8,
    ) -> None:
        register_extensions()
        self.name = name
        self.mentions_key = mentions_key
        self.signals_key = signals_key
        self.window = window
        self.direct_max_tokens = direct_max_tokens

    def __call__(self, doc: Doc) -> Doc:
        mentions = list(doc.spans[self.mentions_key]) if self.mentions_key in doc.spans else []
        # without a mention there is nothing to link: the signals' Span objects are not made
        signals = list(doc.spans[self.signals_key]) if mentions and self.signals_key in doc.spans else []
        doc._.hrd_links = self.link(doc, mentions, signals)
        return doc

    def link(self, doc: Doc, mentions: list[Span], signals: list[Span]) -> list[dict[str, Any]]:
        """Return the link dicts for ``signals`` against ``mentions`` (see the class docstring)."""
        if not mentions or not signals:
            return []
        sent_of = sentence_index(doc)
        parsed = doc.has_annotation("DEP")
        # (sentence, start, end, index) of each mention, read once rather than once per signal
        men_pos = [(sent_of[m.start], m.start, m.end, i) for i, m in enumerate(mentions)]
        links = []
        for j, sig in enumerate(signals):
            sig_sent, sig_start, sig_end = sent_of[sig.start], sig.start, sig.end
            # nearest by sentence, then by tokens (_token_distance), then first
            best = min(
                men_pos,
                key=lambda m: (abs(m[0] - sig_sent), max(0, m[1] - sig_end, sig_start - m[2]), m[3]),
            )[3]
            men = mentions[best]
            sent_distance = abs(sent_of[men.start] - sig_sent)
            links.append(
                {
                    "mention": best,
                    "signal": j,
                    "strength": self.strength(men, sig, sent_distance, parsed),
                    "sent_distance": sent_distance,
                    "token_distance": _token_distance(men, sig),
                }
            )
        return links

    def strength(self, mention: Span, signal: Span, sent_distance: int, parsed: bool) -> str:
        """Return the link strength between a mention and a signal."""
        if sent_distance == 0:
            tied = (
                syntactically_tied(mention, signal)
                if parsed
                else adjacent_without_boundary(mention, signal, self.direct_max_tokens)
            )
            return "direct" if tied else "sentence"
        if sent_distance <= self.window:
            return "nearby"
        return "document"

    def _state(self) -> dict[str, Any]:
        return {
            "mentions_key": self.mentions_key,
            "signals_key": self.signals_key,
            "window": self.window,
            "direct_max_tokens": self.direct_max_tokens,
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """Serialize the settings."""
        return srsly.msgpack_dumps(self._state())

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> LinkerComponent:
        """Load what :meth:`to_bytes` wrote."""
        self._load_state(srsly.msgpack_loads(bytes_data))
        return self

    def to_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> None:
        """Write ``linker.json`` into ``path``."""
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "linker.json", self._state())

    def from_disk(self, path: Any, *, exclude: Iterable[str] = ()) -> LinkerComponent:
        """Load what :meth:`to_disk` wrote."""
        file = ensure_path(path) / "linker.json"
        if file.exists():
            self._load_state(srsly.read_json(file))
        return self


def _token_distance(a: Span, b: Span) -> int:
    return max(0, a.start - b.end, b.start - a.end)
