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

from typing import Any

import numpy as np
from spacy.attrs import LEMMA, LOWER, ORTH
from spacy.matcher import Matcher
from spacy.pipeline.span_ruler import SpanRuler
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..lexicons import anchor_variants

#: Longest span a token pattern may cover. Lexicon patterns are phrases; none comes near.
MAX_PATTERN_TOKENS = 40

#: A token spec checked without the Matcher: (True for LOWER / False for ORTH, allowed hashes).
_Check = tuple[bool, frozenset[int]]


def _max_width(pattern: list[dict[str, Any]], cap: int) -> int:
    """Most tokens ``pattern`` can match (``cap`` when a ``+``/``*`` makes it unbounded)."""
    width = 0
    for token in pattern:
        op = token.get("OP", "1")
        if op in ("1", "?", "!"):
            width += 1  # "!" consumes a token too (one that must not match)
        elif op.startswith("{"):
            upper = op.strip("{}").split(",")[-1]
            width += int(upper) if upper else cap
        else:
            return cap
    return min(max(width, 1), cap)


def _values(token: dict[str, Any], vocab: Vocab) -> _Check | None:
    """The one ``LOWER``/``ORTH`` test of a token spec (a string or ``IN`` strings), else None."""
    plain = {k: v for k, v in token.items() if k != "OP"}
    if len(plain) != 1:
        return None
    ((attr, value),) = plain.items()
    if attr not in ("LOWER", "ORTH"):
        return None
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(v, str) for v in value["IN"]):
        items = list(value["IN"])
    else:
        return None
    return attr == "LOWER", frozenset(vocab.strings.add(v) for v in items)


def _unrepeat(pattern: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rewrite a leading ``*``/``+`` token so that every variant starts with one plain token.

    ``A* rest`` matches what ``rest`` and ``A A* rest`` match together, ``A+ rest`` what
    ``A A* rest`` matches; the variants can then be anchored on ``A``'s values instead of
    running a ``Matcher`` from every token of the document. Only done when ``rest`` has a
    required token (else the pattern could match nothing at all and stays as it is).
    """
    if len(pattern) < 2 or pattern[0].get("OP") not in ("*", "+"):
        return [pattern]
    rest = pattern[1:]
    if not any(t.get("OP", "1") in ("1", "+") for t in rest):
        return [pattern]
    one = {k: v for k, v in pattern[0].items() if k != "OP"}
    variants = [[one, {**one, "OP": "*"}, *rest]]
    if pattern[0]["OP"] == "*":
        variants = _unrepeat(rest) + variants
    return variants


def _tail(specs: list[dict[str, Any]]) -> int | None:
    """Most tokens ``specs`` can match, or None when unbounded (or a ``!`` makes it unclear)."""
    width = 0
    for token in specs:
        op = token.get("OP", "1")
        if op in ("1", "?"):
            width += 1
        elif op.startswith("{") and op.rstrip("}").split(",")[-1].strip():
            width += int(op.strip("{}").split(",")[-1])
        else:
            return None
    return width


def _required(
    variant: list[dict[str, Any]], vocab: Vocab
) -> tuple[list[tuple[int, frozenset[int]]], int | None]:
    """Values tokens after the anchor must have for ``variant`` to match, and its tail.

    One ``(column, allowed hashes)`` per required spec (``1``, ``+``) after the first token
    that tests ``LOWER`` (column 0), ``ORTH``/``TEXT`` (1) or ``LEMMA`` (2) against a string
    or ``IN`` strings (other tests on the same spec only narrow it further). The tail is
    the most tokens a match can hold after the last of those specs (None: unbounded).
    """
    needs = []
    last = 0
    for k, token in enumerate(variant[1:], start=1):
        if token.get("OP", "1") not in ("1", "+"):
            continue
        for column, attr in ((0, "LOWER"), (1, "ORTH"), (1, "TEXT"), (2, "LEMMA")):
            value = token.get(attr)
            if isinstance(value, str):
                items = [value]
            elif (
                isinstance(value, dict)
                and set(value) == {"IN"}
                and all(isinstance(v, str) for v in value["IN"])
            ):
                items = list(value["IN"])
            else:
                continue
            needs.append((column, frozenset(vocab.strings.add(v) for v in items)))
            last = k
            break
    return needs, (_tail(variant[last + 1 :]) if needs else None)


def _next_token(variant: list[dict[str, Any]], vocab: Vocab) -> list[_Check] | None:
    """What the token after the anchor must be for ``variant`` to match, or None if unknown.

    The first token after the anchor is consumed by one of the optional specs (``?``,
    ``*``) up to and including the first required one (``1``, ``+``); None when one of
    them is not a plain ``LOWER``/``ORTH`` test or when nothing after the anchor is required.
    """
    checks: list[_Check] = []
    for token in variant[1:]:
        op = token.get("OP", "1")
        check = _values(token, vocab)
        if check is None or op not in ("1", "+", "?", "*"):
            return None
        checks.append(check)
        if op in ("1", "+"):
            return checks
    return None


class _Anchor:
    """The patterns starting with one ``LOWER``/``ORTH`` value.

    Fixed patterns (every token required, each a plain ``LOWER``/``ORTH`` test) are
    compared in Python, looked up by the value of the token after the anchor (``one``:
    the one-token patterns); the others run through a small ``Matcher`` on a window of
    ``width`` tokens, and only when the next token can start them (``gate``) and the
    window holds every token one of them requires (``needs``, one list per pattern, with
    the most tokens a match holds after the last of them; ``windowed`` False when some
    pattern requires no token that can be checked so). The window then ends where the
    last such token of a pattern that can still match, plus its tail, allows.

    ``next_lower``/``next_orth`` hold every value the token after the anchor may have for
    any of its patterns to match (fixed or not); when ``open`` is False, an occurrence
    whose next token has none of them is skipped without calling :meth:`match`.
    """

    __slots__ = (
        "width",
        "one",
        "by_lower",
        "by_orth",
        "matcher",
        "gate_lower",
        "gate_orth",
        "gated",
        "next_lower",
        "next_orth",
        "open",
        "windowed",
        "needs",
    )

    def __init__(self) -> None:
        self.width = 0
        self.one: list[int] = []
        self.by_lower: dict[int, list[tuple[int, tuple[_Check, ...]]]] = {}
        self.by_orth: dict[int, list[tuple[int, tuple[_Check, ...]]]] = {}
        self.matcher: Matcher | None = None
        self.gate_lower: set[int] = set()
        self.gate_orth: set[int] = set()
        self.gated = True
        self.next_lower: set[int] = set()
        self.next_orth: set[int] = set()
        self.open = False
        self.windowed = True
        self.needs: list[tuple[list[tuple[int, frozenset[int]]], int | None]] = []

    def add(self, key: int, variant: list[dict[str, Any]], vocab: Vocab, max_tokens: int) -> None:
        self.width = max(self.width, _max_width(variant, max_tokens))
        rest = [_values(t, vocab) if t.get("OP", "1") == "1" else None for t in variant[1:]]
        if all(c is not None for c in rest):
            if not rest:
                self.open = True  # a one-token pattern matches whatever follows
                self.one.append(key)
            else:
                is_lower, allowed = rest[0]  # type: ignore[misc]
                (self.next_lower if is_lower else self.next_orth).update(allowed)
                table = self.by_lower if is_lower else self.by_orth
                for value in allowed:
                    table.setdefault(value, []).append((key, tuple(rest[1:])))  # type: ignore[arg-type]
            return
        if self.matcher is None:
            self.matcher = Matcher(vocab)
        self.matcher.add(key, [variant])
        needs, tail = _required(variant, vocab)
        if needs:
            self.needs.append((needs, tail))
        else:
            self.windowed = False
        nxt = _next_token(variant, vocab)
        if nxt is None:
            self.gated = False
            self.open = True
            return
        for is_lower, allowed in nxt:
            (self.gate_lower if is_lower else self.gate_orth).update(allowed)
            (self.next_lower if is_lower else self.next_orth).update(allowed)

    def match(
        self,
        doc: Doc,
        i: int,
        lowers: list[int],
        orths: list[int],
        lemmas: list[int],
        offset: int,
        found: set[tuple[int, int, int]],
    ) -> None:
        n = len(lowers)
        for key in self.one:
            found.add((key, i + offset, i + 1 + offset))
        if i + 1 < n:
            for key, checks in (*self.by_lower.get(lowers[i + 1], ()), *self.by_orth.get(orths[i + 1], ())):
                end = i + 2 + len(checks)
                if end > n:
                    continue
                j = i + 2
                for is_lower, allowed in checks:
                    if (lowers[j] if is_lower else orths[j]) not in allowed:
                        break
                    j += 1
                else:
                    found.add((key, i + offset, end + offset))
        if self.matcher is None:
            return
        if self.gated and (
            i + 1 >= n or (lowers[i + 1] not in self.gate_lower and orths[i + 1] not in self.gate_orth)
        ):
            return
        stop = min(n, i + self.width)
        if self.windowed:
            columns = (lowers, orths, lemmas)
            window: dict[int, set[int]] = {}  # the window's values, per column used
            reach = 0  # where the last match that can still happen ends at the latest
            for needs, tail in self.needs:
                for c, allowed in needs:
                    values = window.get(c)
                    if values is None:
                        values = window[c] = set(columns[c][i + 1 : stop])
                    if values.isdisjoint(allowed):
                        break  # this pattern cannot match here
                else:
                    if tail is None:
                        reach = stop
                        break
                    c, allowed = needs[-1]
                    column = columns[c]
                    j = stop - 1
                    while column[j] not in allowed:  # found: the window holds one
                        j -= 1
                    reach = max(reach, j + 1 + tail)
            if not reach:
                return  # no pattern has all its required tokens in the window
            stop = min(stop, reach)
        for key, start, end in self.matcher(doc[i:stop]):
            if start == 0:
                found.add((key, i + offset, i + end + offset))


class AnchoredMatcher:
    """A drop-in for ``Matcher(vocab)`` (``add``, ``__call__``) indexed by first token.

    Patterns whose first token is a plain ``LOWER``/``ORTH`` value are kept per value
    (:class:`_Anchor`) and tried only where that value occurs; the rest go to one
    ordinary ``Matcher`` over the whole document.

    Args:
        vocab: The shared vocabulary.
        max_tokens: Longest window a match may span.
    """

    def __init__(self, vocab: Vocab, *, max_tokens: int = MAX_PATTERN_TOKENS) -> None:
        self.vocab = vocab
        self.max_tokens = max_tokens
        self._lower: dict[int, _Anchor] = {}
        self._orth: dict[int, _Anchor] = {}
        self._fallback = Matcher(vocab)
        self._keys: set[int] = set()
        self._anchor_keys: tuple[np.ndarray, np.ndarray] | None = None

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
        self._anchor_keys = None
        for pattern in (v for p in patterns for v in _unrepeat(p)):
            for variant in anchor_variants(pattern):
                first = variant[0]
                plain = {k: v for k, v in first.items() if k != "OP"}
                if first.get("OP") in (None, "1") and len(plain) == 1:
                    ((attr, value),) = plain.items()
                    if attr in ("LOWER", "ORTH") and isinstance(value, str):
                        table = self._lower if attr == "LOWER" else self._orth
                        anchor = table.setdefault(self.vocab.strings.add(value), _Anchor())
                        anchor.add(key, variant, self.vocab, self.max_tokens)
                        continue
                self._fallback.add(key, [variant])

    def __call__(self, doc: Doc | Span) -> list[tuple[int, int, int]]:
        """Return ``(key, start, end)`` token matches, like ``Matcher.__call__``."""
        if isinstance(doc, Span):
            offset, doc_ = doc.start, doc.as_doc()
        else:
            offset, doc_ = 0, doc
        found: set[tuple[int, int, int]] = set()
        if len(doc_) and (self._lower or self._orth):
            if self._anchor_keys is None:
                self._anchor_keys = (
                    np.array(sorted(self._lower), dtype=np.uint64),
                    np.array(sorted(self._orth), dtype=np.uint64),
                )
            # Token attributes as plain ints: no Token object per token; numpy finds the
            # positions holding an anchor value, Python looks only at those.
            arr = doc_.to_array([LOWER, ORTH, LEMMA])
            lowers, orths, lemmas = arr[:, 0].tolist(), arr[:, 1].tolist(), arr[:, 2].tolist()
            n = len(lowers)
            for table, keys, column, values in (
                (self._lower, self._anchor_keys[0], arr[:, 0], lowers),
                (self._orth, self._anchor_keys[1], arr[:, 1], orths),
            ):
                if not table:
                    continue
                at = np.minimum(np.searchsorted(keys, column), len(keys) - 1)
                for i in np.flatnonzero(keys[at] == column).tolist():
                    anchor = table[values[i]]
                    if not anchor.open and (
                        i + 1 >= n
                        or (lowers[i + 1] not in anchor.next_lower and orths[i + 1] not in anchor.next_orth)
                    ):
                        continue  # no pattern of this anchor can go on with the next token
                    anchor.match(doc_, i, lowers, orths, lemmas, offset, found)
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
