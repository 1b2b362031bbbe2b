"""Token-pattern matching indexed by each pattern's first token.

spaCy's :class:`~spacy.matcher.Matcher` starts every pattern at every token, so its cost
grows with tokens × patterns: with the ~1,600 token patterns of the lexicons it ran at
about 6,000 words/s on the seed report. :class:`AnchoredMatcher` keeps one small
``Matcher`` per first-token value (``LOWER`` or ``ORTH``) and runs it only where that
value occurs, on a bounded window; the matches are the same, the cost follows the number
of anchor occurrences instead. :class:`AnchoredSpanRuler` is spaCy's ``span_ruler`` with
its token matching done that way (patterns, serialisation and phrase matching unchanged).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from spacy.matcher import Matcher
from spacy.pipeline.span_ruler import SpanRuler
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..lexicons import anchor_variants

#: Longest span a token pattern may cover. Lexicon patterns are phrases; none comes near.
MAX_PATTERN_TOKENS = 40


def _max_width(pattern: list[dict[str, Any]], cap: int) -> int:
    """Most tokens ``pattern`` can match (``cap`` when a ``+``/``*`` makes it unbounded)."""
    width = 0
    for token in pattern:
        op = token.get("OP", "1")
        if op in ("1", "?", "!"):
            width += 0 if op == "!" else 1
        elif op.startswith("{"):
            upper = op.strip("{}").split(",")[-1]
            width += int(upper) if upper else cap
        else:
            return cap
    return min(max(width, 1), cap)


class AnchoredMatcher:
    """A drop-in for ``Matcher(vocab)`` (``add``, ``__call__``) indexed by first token.

    Args:
        vocab: The shared vocabulary.
        max_tokens: Longest window a match may span.
    """

    def __init__(self, vocab: Vocab, *, max_tokens: int = MAX_PATTERN_TOKENS) -> None:
        self.vocab = vocab
        self.max_tokens = max_tokens
        self._lower: dict[int, Matcher] = {}
        self._orth: dict[int, Matcher] = {}
        # Longest window each anchor's patterns can need (bounded by max_tokens).
        self._span: dict[tuple[str, int], int] = {}
        self._fallback = Matcher(vocab)
        self._keys: set[int] = set()
        self._pending: dict[tuple[str, int, int], list[list[dict[str, Any]]]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: str | int) -> bool:
        return self._key(key) in self._keys

    def _key(self, key: str | int) -> int:
        return key if isinstance(key, int) else self.vocab.strings.add(key)

    def add(self, key: str | int, patterns: list[list[dict[str, Any]]]) -> None:
        """Add token patterns under ``key`` (a string or its hash)."""
        key = self._key(key)
        self._keys.add(key)
        for pattern in patterns:
            for variant in anchor_variants(pattern):
                first = variant[0]
                plain = {k: v for k, v in first.items() if k != "OP"}
                if first.get("OP") in (None, "1") and len(plain) == 1:
                    (attr, value), = plain.items()
                    if attr in ("LOWER", "ORTH") and isinstance(value, str):
                        table = self._lower if attr == "LOWER" else self._orth
                        anchor = self.vocab.strings.add(value)
                        table.setdefault(anchor, Matcher(self.vocab)).add(key, [variant])
                        width = _max_width(variant, self.max_tokens)
                        slot = (attr, anchor)
                        self._span[slot] = max(self._span.get(slot, 0), width)
                        continue
                self._fallback.add(key, [variant])

    def __call__(self, doc: Doc | Span) -> list[tuple[int, int, int]]:
        """Return ``(key, start, end)`` token matches, like ``Matcher.__call__``."""
        if isinstance(doc, Span):
            offset, doc_ = doc.start, doc.as_doc()
        else:
            offset, doc_ = 0, doc
        found: set[tuple[int, int, int]] = set()
        n = len(doc_)
        lower, orth, span = self._lower, self._orth, self._span
        for i, tok in enumerate(doc_):
            for attr, anchor, matcher in (
                ("LOWER", tok.lower, lower.get(tok.lower)),
                ("ORTH", tok.orth, orth.get(tok.orth)),
            ):
                if matcher is None:
                    continue
                window = doc_[i : min(n, i + span[(attr, anchor)])]
                for key, start, end in matcher(window):
                    if start == 0:
                        found.add((key, i + offset, i + end + offset))
        if len(self._fallback):
            found.update((k, s + offset, e + offset) for k, s, e in self._fallback(doc_))
        return sorted(found, key=lambda m: (m[1], m[2], m[0]))


class AnchoredSpanRuler(SpanRuler):
    """spaCy's ``span_ruler`` whose token patterns run through an :class:`AnchoredMatcher`.

    Assigns the same ``doc.spans[spans_key]`` as ``span_ruler``; patterns are added,
    serialised and loaded exactly as there.
    """

    _anchored_matcher: AnchoredMatcher | None = None

    def _anchored(self) -> AnchoredMatcher:
        if self._anchored_matcher is None:
            matcher = AnchoredMatcher(self.nlp.vocab)
            for p in self._patterns:
                if not isinstance(p["pattern"], str):
                    # SpanRuler keys its matches by this string; keep the same keys.
                    matcher.add(repr((p["label"], p.get("id", ""))), [p["pattern"]])
            self._anchored_matcher = matcher
        return self._anchored_matcher

    def add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        self._anchored_matcher = None
        super().add_patterns(patterns)

    def remove(self, label: str) -> None:
        self._anchored_matcher = None
        super().remove(label)

    def remove_by_id(self, pattern_id: str) -> None:
        self._anchored_matcher = None
        super().remove_by_id(pattern_id)

    def clear(self) -> None:
        self._anchored_matcher = None
        super().clear()

    def match(self, doc: Doc) -> list[Span]:
        self._require_patterns()
        matches = list(self._anchored()(doc)) + list(self.phrase_matcher(doc))
        unique = {
            Span(
                doc,
                start,
                end,
                label=self._match_label_id_map[m_id]["label"],
                span_id=self._match_label_id_map[m_id]["id"],
            )
            for m_id, start, end in matches
            if start != end
        }
        return sorted(unique)
