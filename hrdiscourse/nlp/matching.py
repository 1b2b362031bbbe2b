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

import weakref
from typing import Any

import numpy as np
from spacy.attrs import LEMMA, LOWER, ORTH
from spacy.matcher import Matcher
from spacy.pipeline.span_ruler import SpanRuler
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from ..lexicons import anchor_variants

#: Longest span a token pattern may cover. Lexicon patterns are phrases; none comes near.
MAX_PATTERN_TOKENS = 40

#: Most fixed variants one pattern's optional tokens may expand into (see :func:`_fixed_rests`).
MAX_FIXED_VARIANTS = 64

#: :meth:`AnchoredMatcher.find` visits from Python only the tokens where an anchor may
#: match (see :class:`_LiveFilter`): a token's hash masked by this picks its bucket...
_BUCKET_MASK = 0xFFFF
#: ...and a token's hash XOR the next token's hash times this (odd) picks the pair's bucket.
_PAIR_MULT = np.uint64(0x9E3779B97F4A7C15)

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


def _fixed_rests(variant: list[dict[str, Any]], vocab: Vocab) -> list[list[_Check]] | None:
    """The tokens after the anchor as fixed test sequences, or None when that is not possible.

    A pattern whose tokens after the first are plain ``LOWER``/``ORTH`` tests, each
    required (``1``) or optional (``?``), matches exactly what its variants with and
    without each optional token match together (the Matcher returns every match, of
    every length); they are compared in Python instead of running a ``Matcher`` on a
    window. None when a token is anything else or when there would be more than
    :data:`MAX_FIXED_VARIANTS` variants.
    """
    rests: list[list[_Check]] = [[]]
    for token in variant[1:]:
        op = token.get("OP", "1")
        check = _values(token, vocab)
        if check is None or op not in ("1", "?"):
            return None
        with_it = [[*rest, check] for rest in rests]
        rests = with_it if op == "1" else rests + with_it
        if len(rests) > MAX_FIXED_VARIANTS:
            return None
    return rests


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


class TokenColumns:
    """A Doc's ``LOWER`` and ``ORTH`` hashes as plain ints, read once per Doc.

    ``lowers``/``orths`` are lists (a list index is cheaper than a numpy one from Python);
    :meth:`buckets` and :meth:`pairs` give the hashes :class:`_LiveFilter` looks up, as
    numpy arrays (made on first use, then kept). See :func:`token_columns`.
    """

    __slots__ = ("n", "array", "lowers", "orths", "_buckets", "_pairs", "__weakref__")

    def __init__(self, doc: Doc) -> None:
        self.n = len(doc)
        self.array = doc.to_array([LOWER, ORTH])
        self.lowers: list[int] = self.array[:, 0].tolist()
        self.orths: list[int] = self.array[:, 1].tolist()
        self._buckets: dict[int, np.ndarray] = {}
        self._pairs: dict[tuple[int, int], np.ndarray] = {}

    def buckets(self, column: int) -> np.ndarray:
        """Each token's hash in ``column`` (0 ``LOWER``, 1 ``ORTH``) masked by :data:`_BUCKET_MASK`."""
        found = self._buckets.get(column)
        if found is None:
            found = self._buckets[column] = (self.array[:, column] & np.uint64(_BUCKET_MASK)).astype(np.intp)
        return found

    def pairs(self, first: int, second: int) -> np.ndarray:
        """Per token but the last, the pair hash (:func:`_pair_hashes`) of its value in
        column ``first`` and the next token's value in column ``second``."""
        found = self._pairs.get((first, second))
        if found is None:
            found = self._pairs[first, second] = _pair_hashes(self.array[:-1, first], self.array[1:, second])
        return found


def _pair_hashes(values: np.ndarray, next_values: np.ndarray) -> np.ndarray:
    """One ``uint64`` per (value, next value): the bits a :class:`_LiveFilter` buckets by."""
    return values ^ (next_values * _PAIR_MULT)  # uint64 arithmetic wraps around


class _LiveFilter:
    """Where the anchors of one table (``LOWER`` or ``ORTH``) may match, in numpy.

    Most anchor occurrences (common words like "in", "is", "people") can match nothing:
    the token after them starts none of their patterns. A token is *live* when its
    value's bucket holds an anchor that matches whatever follows (one-token patterns, a
    ``Matcher`` not gated by the next token: ``any``), or when the bucket of the pair
    (value, next ``LOWER``) or (value, next ``ORTH``) holds an anchor and a next value
    one of its patterns can go on with (``lower``/``orth``: fixed patterns' next values
    and the ``Matcher`` gates). Buckets may be shared (the filter lets more tokens
    through, never fewer); :meth:`AnchoredMatcher.find` checks each live token exactly.
    """

    __slots__ = ("any", "lower", "orth", "shift")

    def __init__(self, table: dict[int, _Anchor]) -> None:
        self.any = np.zeros(_BUCKET_MASK + 1, dtype=bool)
        pairs: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
        for value, anchor in table.items():
            gated = anchor.matcher is None or anchor.gated
            if anchor.one or not gated:
                self.any[value & _BUCKET_MASK] = True
            for pairs_of, fixed, gate in (
                (pairs[0], anchor.by_lower, anchor.gate_lower),
                (pairs[1], anchor.by_orth, anchor.gate_orth),
            ):
                pairs_of.extend((value, v) for v in fixed)
                if anchor.matcher is not None and anchor.gated:
                    pairs_of.extend((value, v) for v in gate)
        # about 32 buckets per pair: few shared ones
        bits = max(10, min(22, (32 * max(len(pairs[0]), len(pairs[1]))).bit_length()))
        self.shift = np.uint64(64 - bits)
        self.lower, self.orth = (self._bits(p, bits) for p in pairs)

    def _bits(self, pairs: list[tuple[int, int]], bits: int) -> np.ndarray:
        out = np.zeros(1 << bits, dtype=bool)
        if pairs:
            values = np.array(pairs, dtype=np.uint64)
            out[(_pair_hashes(values[:, 0], values[:, 1]) >> self.shift).astype(np.intp)] = True
        return out

    def live(self, words: TokenColumns, column: int) -> list[int]:
        """The positions of ``words`` where an anchor of the table (on ``column``) may match."""
        live = self.any[words.buckets(column)]
        if words.n > 1:
            nxt = live[:-1]  # a view: the last token has no next one
            nxt |= self.lower[(words.pairs(column, 0) >> self.shift).astype(np.intp)]
            nxt |= self.orth[(words.pairs(column, 1) >> self.shift).astype(np.intp)]
        return np.flatnonzero(live).tolist()


_COLUMNS: weakref.WeakKeyDictionary[Doc, TokenColumns] = weakref.WeakKeyDictionary()


def token_columns(doc: Doc) -> TokenColumns:
    """The ``LOWER``/``ORTH`` columns of ``doc``, read once and shared by every matcher.

    The two span rulers and the context component's cue matcher each match on the same
    Doc; reading its columns (``Doc.to_array`` and ``tolist``) once saves the other reads.
    The columns are kept beside the Doc object (weakly: they go when it goes) and read
    again when its length changed; a token's ``LOWER``/``ORTH`` cannot change otherwise
    except through a retokenization that keeps the token count, after which
    :func:`forget_columns` must be called. Lemmas, which a later component may set, are
    not kept.
    """
    words = _COLUMNS.get(doc)
    if words is None or words.n != len(doc):
        words = _COLUMNS[doc] = TokenColumns(doc)
    return words


def forget_columns(doc: Doc) -> None:
    """Drop the columns :func:`token_columns` keeps for ``doc`` (after retokenizing it)."""
    _COLUMNS.pop(doc, None)


class _Anchor:
    """The patterns starting with one ``LOWER``/``ORTH`` value.

    Fixed patterns (every token after the anchor a plain ``LOWER``/``ORTH`` test, required
    or optional: see :func:`_fixed_rests`) are compared in Python by
    :meth:`AnchoredMatcher.find`, looked up by the value of the token after the anchor
    (``by_lower``/``by_orth``; ``one``: the one-token patterns); the others run through a
    small ``Matcher`` on a window of ``width`` tokens, and only when the next token can
    start them (``gate``) and the window holds every token one of them requires
    (``needs``, one list per pattern, with the most tokens a match holds after the last of
    them; ``windowed`` False when some pattern requires no token that can be checked so).
    The window then ends where the last such token of a pattern that can still match, plus
    its tail, allows.
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
        self.windowed = True
        self.needs: list[tuple[list[tuple[int, frozenset[int]]], int | None]] = []

    def add(self, key: int, variant: list[dict[str, Any]], vocab: Vocab, max_tokens: int) -> None:
        fixed = _fixed_rests(variant, vocab)
        if fixed is not None:
            for rest in fixed:
                self._add_fixed(key, rest)
            return
        self.width = max(self.width, _max_width(variant, max_tokens))
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
            return
        for is_lower, allowed in nxt:
            (self.gate_lower if is_lower else self.gate_orth).update(allowed)

    def _add_fixed(self, key: int, rest: list[_Check]) -> None:
        """Add a pattern whose tokens after the anchor are the plain tests ``rest``."""
        if not rest:
            self.one.append(key)  # a one-token pattern matches whatever follows
            return
        is_lower, allowed = rest[0]
        table = self.by_lower if is_lower else self.by_orth
        for value in allowed:
            table.setdefault(value, []).append((key, tuple(rest[1:])))

    def match_window(
        self, doc: Doc, i: int, columns: list[list[int] | None], offset: int, found: set[tuple[int, int, int]]
    ) -> None:
        """Run the ``Matcher`` of the non-fixed patterns at ``i`` (the fixed ones are
        compared by :meth:`AnchoredMatcher.find`).

        ``columns``: the ``LOWER`` and ``ORTH`` values of ``doc`` and its ``LEMMA`` values or
        None, read here the first time a pattern needs them (lemmas may still change, so
        they are not kept with the other columns; the lexicons test none after the anchor).
        """
        lowers, orths = columns[0], columns[1]
        n = len(lowers)  # type: ignore[arg-type]
        if self.gated and (
            i + 1 >= n or (lowers[i + 1] not in self.gate_lower and orths[i + 1] not in self.gate_orth)  # type: ignore[index]
        ):
            return
        stop = min(n, i + self.width)
        if self.windowed:
            window: dict[int, set[int]] = {}  # the window's values, per column used
            reach = 0  # where the last match that can still happen ends at the latest
            for needs, tail in self.needs:
                for c, allowed in needs:
                    values = window.get(c)
                    if values is None:
                        column = columns[c]
                        if column is None:
                            column = columns[c] = doc.to_array(LEMMA).tolist()
                        values = window[c] = set(column[i + 1 : stop])
                    if values.isdisjoint(allowed):
                        break  # this pattern cannot match here
                else:
                    if tail is None:
                        reach = stop
                        break
                    c, allowed = needs[-1]
                    column = columns[c]
                    j = stop - 1
                    while column[j] not in allowed:  # type: ignore[index]  # found: the window holds one
                        j -= 1
                    reach = max(reach, j + 1 + tail)
            if not reach:
                return  # no pattern has all its required tokens in the window
            stop = min(stop, reach)
        for key, start, end in self.matcher(doc[i:stop]):  # type: ignore[misc]
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
        self._filters: tuple[_LiveFilter, _LiveFilter] | None = None

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
        self._filters = None
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
        return sorted(self.find(doc), key=lambda m: (m[1], m[2], m[0]))

    def _live_filters(self) -> tuple[_LiveFilter, _LiveFilter]:
        if self._filters is None:
            self._filters = (_LiveFilter(self._lower), _LiveFilter(self._orth))
        return self._filters

    def find(self, doc: Doc | Span) -> set[tuple[int, int, int]]:
        """The ``(key, start, end)`` token matches as a set (:meth:`__call__` sorts them)."""
        if isinstance(doc, Span):
            offset, doc_ = doc.start, doc.as_doc()
        else:
            offset, doc_ = 0, doc
        found: set[tuple[int, int, int]] = set()
        if len(doc_) and (self._lower or self._orth):
            add = found.add
            # Token attributes as plain ints: no Token object per token; numpy finds the
            # positions where an anchor may match, Python looks only at those.
            words = token_columns(doc_)
            lowers, orths = words.lowers, words.orths
            columns: list[list[int] | None] = [lowers, orths, None]
            n = len(lowers)
            filters = self._live_filters()
            for table, live_filter, column, values in (
                (self._lower, filters[0], 0, lowers),
                (self._orth, filters[1], 1, orths),
            ):
                if not table:
                    continue
                for i in live_filter.live(words, column):
                    anchor = table.get(values[i])
                    if anchor is None:
                        continue  # another value in the same bucket
                    for key in anchor.one:
                        add((key, i + offset, i + 1 + offset))
                    if i + 1 < n:
                        # fixed patterns: a lookup by the next token, then plain comparisons
                        fixed = anchor.by_lower.get(lowers[i + 1])
                        if anchor.by_orth:
                            more = anchor.by_orth.get(orths[i + 1])
                            if more is not None:
                                fixed = more if fixed is None else fixed + more
                        if fixed is not None:
                            for key, checks in fixed:
                                if not checks:
                                    add((key, i + offset, i + 2 + offset))
                                    continue
                                end = i + 2 + len(checks)
                                if end > n:
                                    continue
                                j = i + 2
                                for is_lower, allowed in checks:
                                    if (lowers[j] if is_lower else orths[j]) not in allowed:
                                        break
                                    j += 1
                                else:
                                    add((key, i + offset, end + offset))
                    if anchor.matcher is not None:
                        anchor.match_window(doc_, i, columns, offset, found)
        if len(self._fallback):
            found.update((k, s + offset, e + offset) for k, s, e in self._fallback(doc_))
        return found


class AnchoredSpanRuler(SpanRuler):
    """spaCy's ``span_ruler`` whose token patterns run through an :class:`AnchoredMatcher`.

    Assigns the same ``doc.spans[spans_key]`` as ``span_ruler``; patterns are added,
    serialised and loaded exactly as there.
    """

    _anchored_matcher: AnchoredMatcher | None = None
    _span_infos: dict[int, tuple[int, int, str, str]] | None = None

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
        self._span_infos = None
        super().add_patterns(patterns)

    def remove(self, label: str) -> None:
        self._anchored_matcher = None
        self._span_infos = None
        super().remove(label)

    def remove_by_id(self, pattern_id: str) -> None:
        self._anchored_matcher = None
        self._span_infos = None
        super().remove_by_id(pattern_id)

    def clear(self) -> None:
        self._anchored_matcher = None
        self._span_infos = None
        super().clear()

    def _span_info(self) -> dict[int, tuple[int, int, str, str]]:
        """Per match key: the label's and the id's hashes (what Spans sort by), label, id."""
        if self._span_infos is None:
            self._span_infos = {
                key: (get_string_id(info["label"]), get_string_id(info["id"]), info["label"], info["id"])
                for key, info in self._match_label_id_map.items()
            }
        return self._span_infos

    def match(self, doc: Doc) -> list[Span]:
        """The matches as sorted, distinct Spans, as ``SpanRuler.match`` returns them.

        Deduplicated and sorted as ``(key, start, end)`` ints, then made into Spans once:
        a Span sorts by ``(start_char, end_char, label, kb_id, id)``, which is the order of
        ``(start, end, label, id)`` here since no token is empty (spaCy refuses empty
        tokens) and these Spans have no ``kb_id``; the key stands for ``(label, id)``.
        """
        self._require_patterns()
        found = self._anchored().find(doc)
        found.update(self.phrase_matcher(doc))
        info = self._span_info()
        rows = sorted((start, end, *info[key]) for key, start, end in found if start != end)
        return [
            Span(doc, start, end, label=label, span_id=span_id) for start, end, _, _, label, span_id in rows
        ]
