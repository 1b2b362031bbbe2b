"""Every spaCy registration of hrdiscourse: component factories and registered functions.

Components (prefix ``hrd_``):
    - ``hrd_span_ruler`` — :class:`~hrdiscourse.nlp.matching.AnchoredSpanRuler`, spaCy's
      ``span_ruler`` with first-token-indexed matching (same patterns, same output)
    - ``hrd_context`` — :class:`~hrdiscourse.nlp.context.ContextComponent`
    - ``hrd_linker`` — :class:`~hrdiscourse.nlp.linking.LinkerComponent`
    - ``hrd_sentencizer`` — :class:`~hrdiscourse.nlp.sentencizer.ArraySentencizer`, spaCy's
      ``sentencizer`` vectorised (same boundaries), used by the fast pipeline

Matching is spaCy's ``span_ruler`` (subclassed only for speed). Registered functions (``@misc``,
versioned) feed the components' ``initialize()`` from the lexicons, so a config can say
``patterns = {"@misc": "hrdiscourse.lexicon_patterns.v1", "names": ["harm_reduction"]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from spacy.language import Language
from spacy.tokens import Span
from spacy.util import registry

from ..lexicons import CUE_LEXICONS, Lexicon, read_lexicon
from .context import ContextComponent, longest_per_label
from .linking import LinkerComponent
from .matching import AnchoredSpanRuler
from .sentencizer import ArraySentencizer

#: Factory names this package registers (snapshot-tested in tests/data/nlp/factories.json).
FACTORY_NAMES: tuple[str, ...] = ("hrd_context", "hrd_linker", "hrd_sentencizer", "hrd_span_ruler")
#: Registered ``@misc`` functions.
MISC_NAMES: tuple[str, ...] = (
    "hrdiscourse.read_lexicon.v1",
    "hrdiscourse.lexicon_patterns.v1",
    "hrdiscourse.context_cues.v1",
    "hrdiscourse.lexicon_constraints.v1",
    "hrdiscourse.longest_per_label_filter.v1",
)


@Language.factory(
    "hrd_span_ruler",
    assigns=["doc.spans"],
    default_config={
        "spans_key": "hrd_signals",
        "spans_filter": None,
        "phrase_matcher_attr": "LOWER",
        "validate": True,
        "overwrite": True,
    },
)
def make_span_ruler(
    nlp: Language,
    name: str,
    spans_key: str,
    spans_filter: Callable[[Iterable[Span], Iterable[Span]], Iterable[Span]] | None,
    phrase_matcher_attr: str | None,
    validate: bool,
    overwrite: bool,
) -> AnchoredSpanRuler:
    """Create the lexicon matcher (patterns arrive through ``initialize``/``add_patterns``)."""
    return AnchoredSpanRuler(
        nlp,
        name,
        spans_key=spans_key,
        spans_filter=spans_filter,
        phrase_matcher_attr=phrase_matcher_attr,
        validate=validate,
        overwrite=overwrite,
    )


@Language.factory(
    "hrd_sentencizer",
    assigns=["token.is_sent_start", "doc.sents"],
    default_config={
        "punct_chars": None,
        "overwrite": False,
        "scorer": {"@scorers": "spacy.senter_scorer.v1"},
    },
    default_score_weights={"sents_f": 1.0, "sents_p": 0.0, "sents_r": 0.0},
)
def make_sentencizer(
    nlp: Language, name: str, punct_chars: list[str] | None, overwrite: bool, scorer: Callable | None
) -> ArraySentencizer:
    """Create the vectorised ``sentencizer`` (spaCy's settings and defaults)."""
    return ArraySentencizer(name, punct_chars=punct_chars, overwrite=overwrite, scorer=scorer)


@Language.factory(
    "hrd_context",
    assigns=[
        "span._.hrd_negated",
        "span._.hrd_hedged",
        "span._.hrd_quoted",
        "span._.hrd_critical",
        "span._.hrd_speaker",
    ],
    requires=["doc.spans"],
    default_config={"mentions_key": "hrd_mentions", "signals_key": "hrd_signals", "critical_window": 1},
)
def make_context(
    nlp: Language, name: str, mentions_key: str, signals_key: str, critical_window: int
) -> ContextComponent:
    """Create the ConText-style component (cues arrive through ``initialize``)."""
    return ContextComponent(
        nlp, name, mentions_key=mentions_key, signals_key=signals_key, critical_window=critical_window
    )


@Language.factory(
    "hrd_linker",
    assigns=["doc._.hrd_links"],
    requires=["doc.spans"],
    default_config={
        "mentions_key": "hrd_mentions",
        "signals_key": "hrd_signals",
        "window": 2,
        "direct_max_tokens": 8,
    },
)
def make_linker(
    nlp: Language, name: str, mentions_key: str, signals_key: str, window: int, direct_max_tokens: int
) -> LinkerComponent:
    """Create the signal-to-mention linker."""
    return LinkerComponent(
        nlp,
        name,
        mentions_key=mentions_key,
        signals_key=signals_key,
        window=window,
        direct_max_tokens=direct_max_tokens,
    )


@registry.misc("hrdiscourse.read_lexicon.v1")
def make_read_lexicon(path_or_name: str) -> Lexicon:
    """Read one lexicon by path or name (see :func:`hrdiscourse.lexicons.read_lexicon`)."""
    return read_lexicon(path_or_name)


@registry.misc("hrdiscourse.lexicon_patterns.v1")
def lexicon_patterns(names: list[str]) -> list[dict[str, Any]]:
    """Return the ``span_ruler`` patterns of the named lexicons (paths or names)."""
    out: list[dict[str, Any]] = []
    for name in names:
        out += read_lexicon(name).to_patterns()
    return out


@registry.misc("hrdiscourse.context_cues.v1")
def context_cues(names: list[str] | None = None) -> list[dict[str, Any]]:
    """Return the modifier cues (id, label, pattern, direction, scope) of the named lexicons."""
    out: list[dict[str, Any]] = []
    for name in names if names is not None else CUE_LEXICONS:
        for e in read_lexicon(name).entries:
            out.append(
                {
                    "id": e.id,
                    "label": e.label,
                    "pattern": e.pattern,
                    "direction": e.direction or "bidirectional",
                    "scope": e.scope if e.scope is not None else "sentence",
                }
            )
    return out


@registry.misc("hrdiscourse.lexicon_constraints.v1")
def lexicon_constraints(names: list[str]) -> dict[str, dict[str, Any]]:
    """Return ``{entry_id: {"requires"|"excludes": {"any", "window"}}}`` of the named lexicons."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        out.update(read_lexicon(name).constraints())
    return out


def _longest_per_label_filter(existing: Iterable[Span], matches: Iterable[Span]) -> list[Span]:
    return longest_per_label(matches)


@registry.misc("hrdiscourse.longest_per_label_filter.v1")
def make_longest_per_label_filter() -> Callable[[Iterable[Span], Iterable[Span]], list[Span]]:
    """``span_ruler`` ``spans_filter``: the longest match per label among overlapping ones."""
    return _longest_per_label_filter
