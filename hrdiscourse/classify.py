"""Document framing labels: a transparent rule layer and a scikit-learn model.

The input of every function here is an analysed document (a ``documents.jsonl``
dict without the label fields, see ``docs/schema.md``): ``text``, ``doc_type``,
``hr_mentions``, ``signals`` and ``links``. This module holds no spaCy state; the
spans and links come from :mod:`hrdiscourse.nlp`.

Labels (``DOMAIN.md`` §3, after Santini, Klein, Stella & Butterfly 2020, §2 and §5):
``none, aligned, coopted, copresent, critical, extension, opposed``.

How rules and model combine (decided by measurement, see :data:`STRATEGY`):
the choice is made with 5-fold stratified cross-validation on the *train* split of
``corpora/gold/documents`` (plus the seed report, labelled ``critical``) among

* ``rules``: the rule layer alone;
* ``model``: logistic regression over :func:`featurize` + TF-IDF n-grams;
* ``model_rulefeats``: the same model with the rule layer's label and scores as
  extra features;
* ``hybrid``: the rules decide ``none`` (no harm-reduction mention is structural,
  not a matter of weights), the model (with rule features) decides the rest among the
  labels the spans admit (:func:`_inadmissible`).

The numbers that decided it are in :data:`DECISION` and in the model's JSON
sidecar (``cv_macro_f1``); ``hrdiscourse evaluate --cv`` recomputes them.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml

from .errors import ConfigError, HRDiscourseWarning, LexiconError, ModelError
from .types import DOC_TYPES, LABELS

#: Bump when :func:`featurize` or the model layout changes; a shipped model with
#: another version is still loaded, with a warning to run ``hrdiscourse train``.
MODEL_VERSION = "1.0.0"

STRENGTHS: tuple[str, ...] = ("direct", "sentence", "nearby", "document")
NEAR_STRENGTHS: frozenset[str] = frozenset({"direct", "sentence", "nearby"})

Strategy = Literal["rules", "model", "model_rulefeats", "hybrid"]
STRATEGIES: tuple[str, ...] = ("rules", "model", "model_rulefeats", "hybrid")

#: The combination chosen by cross-validation on the train split (see module docstring).
STRATEGY: Strategy = "hybrid"
#: 5-fold stratified CV macro-F1 on the train split (179 English gold documents + the
#: seed report) with the shipped lexicons; coopted precision in the comments.
#: ``hybrid`` is kept although ``model`` scores a little higher: it makes the labels
#: that the spans rule out by definition (``none`` with a mention, ``extension`` without
#: an extension span, ``coopted`` without a linked co-opting signal, ``copresent``
#: without any) impossible, so every label has evidence in the spans and cannot drift
#: with n-gram weights on out-of-domain text (a one-sentence exit-program text came out
#: ``extension`` under the unconstrained model). ``hrdiscourse train`` recomputes these
#: numbers into the sidecar (``cv_macro_f1``).
DECISION: dict[str, float] = {
    "rules": 0.6685,  # coopted P 0.530
    "model": 0.8417,  # coopted P 0.744
    "model_rulefeats": 0.8378,  # coopted P 0.727
    "hybrid": 0.8320,  # coopted P 0.744
    "baseline": 0.2755,  # coopted P 0.284
}
#: Held-out test split (49 documents), ``hrdiscourse evaluate`` with the shipped model:
#: combined (hybrid) macro-F1 0.914, coopted P 1.000 / R 1.000; model alone 0.940;
#: rules 0.675 (coopted P 0.643); dictionary baseline 0.304 (coopted P 0.300).

NONE_REASON = "no harm-reduction framing found"

MODEL_DIR = Path(__file__).parent / "models"
MODEL_PATH = MODEL_DIR / "label_model.skops"

# --- cues read from the raw text (report §2 "should not", §3, DOMAIN.md §1) -------------

_CRITICAL_CUES = re.compile(
    r"co-?opt(?:s|ed|ing|ion|ation)?\b|incompatible with|runs? counter to|at odds with"
    r"|under the (?:banner|guise|cover|name) of|so-called|masquerad|rebrand|in name only|cloak|distort"
    r"|call(?:s|ed|ing)? (?:it|this|that) harm[- ]reduction|marketed as|branded as|meaningless|borrow"
    # French (lexicons/fr/context_cues.yaml CRITICAL): récupération, sous le couvert de...
    r"|récupération|incompatibles? avec|à l['’]encontre|sous (?:le )?(?:couvert|prétexte)|soi-disant"
    r"|prétendue?s?\b|détourn|dénatur|instrumentalis|n['’]est pas de la (?:réduction|RdR)",
    re.I,
)
_OPPOSED_CUES = re.compile(
    r"abstinen|recovery|sobriety|drug-free|enabl(?:e|es|ing)\b|instead of harm[- ]reduction"
    r"|rather than harm[- ]reduction|failed experiment|surrender|abolish|abolition|end demand"
    r"|keeps? (?:people|them|women|users) (?:in|trapped)|treatment first|addiction"
    r"|fail(?:ed|s|ure)\b|wrong message|normali[sz]|survivors|more (?:drugs|deaths)|give up on"
    # French: rétablissement, désintoxication, société sans drogue, banalise, mauvais message...
    r"|rétablissement|désintox|sobriété|sans drogue|dépendance|banalis|mauvais message|abolir"
    # one alternative per phrase, rather than "(?:plutôt que|au lieu de) la réduction": the
    # same matches, and every alternative starts with a letter, as the one-scan cue counts
    # need (_anchored_starts); alone, it also lets sre skip the positions no alternative can
    # start at (the grouped pattern needed a lookahead instead; measured: this pattern's
    # scans of 72 news texts and their contexts took 16.8 ms, then 11.4 ms)
    r"|plutôt que la réduction|au lieu de la réduction|pénaliser les clients|survivantes",
    re.I,
)
_CONTEXT_CUES = re.compile(
    r"sex[- ]work|sex trade|prostitut|escort|drug|overdose|opioid|naloxone|needle|syringe|inject"
    r"|substance|supervised (?:consumption|injection)|safe supply|fentanyl|methadone|HIV|hepatitis"
    # French
    r"|travail(?:leuses?|leurs?)? du sexe|drogue|surdose|seringue|consomm|opioïde|VIH|hépatite|méthadone",
    re.I,
)
_HR_TERM = re.compile(
    r"harm[- ]reduc|reduc(?:e|es|ed|ing) (?:the )?harms?\b|harm minimi[sz]"
    r"|minimi[sz](?:e|ing) (?:the )?harms?"
    r"|réduction des (?:méfaits|risques)",
    re.I,
)
_BASELINE_COOPTING = re.compile(
    r"\bexit(?:ing|ed|s)?\b|leave (?:the )?(?:sex|life)|get out|way out|abstain|abstinen|relapse|recovery"
    r"|rehabilitat|rescue|saving women|traffick|exploit|victim|at risk|vulnerable|police|rcmp|law enforcement"
    r"|arrest|crackdown|criminali[sz]|prohibit|\bban\b|offence|end demand|must\b|required to|mandatory"
    r"|eligible only|on condition|indicators|spot the signs|monitor|profil|lifestyle|case plan|compliance"
    r"|nuisance|public order|community safety|balance the|drug-free|eradicat|abolish|eliminate",
    re.I,
)


def _first_chars(pattern: re.Pattern[str]) -> set[str] | None:
    """Every character a match of ``pattern`` can start with (under its flags), or None."""
    import re._parser as sre  # the stdlib's own regex parser (Python >= 3.11)

    def first(items: list[Any]) -> set[str]:
        op, arg = items[0]
        if op is sre.LITERAL:
            return {chr(arg)}
        if op is sre.SUBPATTERN:
            return first(list(arg[-1]))
        if op is sre.BRANCH:
            return set().union(*(first(list(b)) for b in arg[1]))
        if op is sre.IN and all(o is sre.LITERAL for o, _ in arg):
            return {chr(a) for _, a in arg}
        raise ValueError(op)

    try:
        return first(list(sre.parse(pattern.pattern, pattern.flags)))
    except (ValueError, IndexError, TypeError, re.error):
        return None


@lru_cache(maxsize=16)
def _prefiltered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` behind a lookahead on its possible first characters.

    The same matches (the lookahead is implied by the pattern), found faster: most text
    positions fail on one character class instead of trying every alternative.
    """
    chars = _first_chars(pattern)
    if not chars:
        return pattern
    ahead = "".join(re.escape(c) for c in sorted(chars))
    try:
        return re.compile(f"(?=[{ahead}])(?:{pattern.pattern})", pattern.flags)
    except re.error:  # e.g. global inline flags, which must stay first
        return pattern


# --- case-insensitive counting without re.IGNORECASE ---------------------------------------
# Under re.IGNORECASE, sre compares every character through its lowercase mapping and cannot
# use its fast first-character checks, so the cue patterns scanned a news text about five
# times slower than a case-sensitive pattern does. Both sides are folded instead: each
# character becomes one representative of its re.IGNORECASE class (its lowercase, or the
# smallest member when sre treats several lowercase characters as one: i/ı, s/ſ, ...), and a
# case-sensitive copy of the pattern runs over the folded text. One character for one, so
# offsets do not move; the matches are the same.

_WORD_CLASSES = (re.compile(r"\w"), re.compile(r"\s"), re.compile(r"\d"))
#: Folded code point of every character met whose fold differs from it.
_FOLD: dict[int, int] = {}
#: Characters already examined, and those whose fold is in another \w/\s/\d class than
#: themselves (a text holding one is scanned with the original pattern).
_FOLD_SEEN: set[str] = set()
_FOLD_UNSAFE: set[str] = set()
#: Non-ASCII characters met that neither fold nor lowercase to anything else (curly quotes,
#: dashes, accented lowercase letters): a text whose non-ASCII characters are all here
#: folds to its ``str.lower()``, which is much faster than ``str.translate``.
_FOLD_ASIS: set[str] = set()
_ASCII = frozenset(chr(i) for i in range(128))
_SAFE_OPS = frozenset(
    {
        "LITERAL",
        "NOT_LITERAL",
        "IN",
        "NEGATE",
        "CATEGORY",
        "BRANCH",
        "SUBPATTERN",
        "MAX_REPEAT",
        "MIN_REPEAT",
        "POSSESSIVE_REPEAT",
        "AT",
        "ASSERT",
        "ASSERT_NOT",
        "ANY",
        "ATOMIC_GROUP",
    }
)


def _fold_code(cp: int) -> int:
    """The representative of ``chr(cp)``'s class under re.IGNORECASE (Unicode, no LOCALE)."""
    import _sre
    import re._casefix as casefix  # the stdlib's table of extra case equivalences (Python >= 3.11)

    lower = _sre.unicode_tolower(cp)
    return min((lower, *casefix._EXTRA_CASES.get(lower, ())))


def _examine(chars: Iterable[str]) -> None:
    """Record the fold of each of ``chars`` in :data:`_FOLD` and the sets above."""
    import _sre

    for ch in chars:
        folded = _fold_code(ord(ch))
        if folded != ord(ch):
            _FOLD[ord(ch)] = folded
            # \b, \w, \s, \d must see the same class in the folded character (sre tests
            # classes on the lowercase under IGNORECASE)
            forms = (ch, chr(folded), chr(_sre.unicode_tolower(ord(ch))))
            if any(len({bool(c.match(f)) for f in forms}) > 1 for c in _WORD_CLASSES):
                _FOLD_UNSAFE.add(ch)
        elif ch not in _ASCII and ch.lower() == ch:
            _FOLD_ASIS.add(ch)
        _FOLD_SEEN.add(ch)


#: Runs of ASCII characters. The ASCII characters are all examined once at import (below), so
#: only a text's other characters can be new; cutting the ASCII runs out leaves those few, and
#: their set costs a fraction of the set of a whole text (measured: 0.65 ms instead of 3.0 ms
#: for the 39 non-ASCII texts of 200 news documents).
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")


def _fold_text(text: str) -> str | None:
    """``text`` with every character folded, or None when folding could change a match."""
    if text.isascii():
        return text.lower()  # the folds of ASCII characters are their lowercase
    if _ASCII_UNSAFE and not _ASCII_UNSAFE.isdisjoint(text):
        return None
    chars = set(_ASCII_RUN.sub("", text))  # the non-ASCII characters
    new = chars - _FOLD_SEEN
    if new:
        _examine(new)
    if _FOLD_UNSAFE and not chars.isdisjoint(_FOLD_UNSAFE):
        return None
    if chars <= _FOLD_ASIS:
        # ASCII characters fold to their lowercase, the others stay: str.lower() does both
        # (its only context-dependent case, final sigma, is not one of these)
        return text.lower()
    return text.translate(_FOLD)  # holds the ASCII folds since the import


_examine(_ASCII)
#: ASCII characters whose fold could change a match: none (each folds to its lowercase, of
#: the same \w/\s/\d classes), checked all the same since :func:`_fold_text` skips them.
_ASCII_UNSAFE = frozenset(_FOLD_UNSAFE & _ASCII)


def _safe_ops(items: Any) -> bool:
    """Whether a parsed pattern uses only operations whose IGNORECASE matching is a
    comparison of folded characters (no ranges, back-references or scoped flags)."""
    import re._parser as sre

    for op, arg in items:
        if str(op) not in _SAFE_OPS:
            return False
        if op is sre.IN:
            subs = [arg]
        elif op is sre.SUBPATTERN:
            if arg[1] or arg[2]:
                return False
            subs = [arg[3]]
        elif op is sre.BRANCH:
            subs = list(arg[1])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            subs = [arg[2]]
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            subs = [arg[1]]
        elif op is sre.ATOMIC_GROUP:
            subs = [arg]
        else:
            continue
        if not all(_safe_ops(sub) for sub in subs):
            return False
    return True


@lru_cache(maxsize=16)
def _folded_pattern(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """The case-sensitive pattern that finds on folded text what ``pattern`` finds on the
    original, or None when there is none to trust.

    The source is folded character by character; that is only done when every character
    it changes is a literal: none follows a backslash (``\\B``, ``\\S``...), the pattern has no
    group names or inline flags, and its operations are all in :data:`_SAFE_OPS`.
    """
    import re._parser as sre

    flags, source = pattern.flags, pattern.pattern
    if not isinstance(source, str) or not flags & re.I or flags & (re.A | re.L):
        return None
    if re.search(r"\(\?(?:[A-Za-z]|<[A-Za-z_])", source):
        return None  # group names, inline flags
    folded = "".join(chr(_fold_code(ord(c))) for c in source)
    escaped = False
    for original, new in zip(source, folded, strict=True):
        if original != new and escaped:
            return None
        escaped = original == "\\" and not escaped
    try:
        if not _safe_ops(sre.parse(source, flags)):
            return None
        return _grouped_branches(re.compile(folded, flags & ~re.I))
    except (TypeError, IndexError, re.error):
        return None


# --- alternatives grouped by their first character -------------------------------------------
# A cue pattern is a long alternation of phrases. At every text position sre tries the
# alternatives one after another, so a position costs a check per alternative; the folded
# cue patterns spend most of their time there. Alternatives that start with the same
# literal character are gathered behind it (``abc|xy|abd`` -> ``a(?:bc|bd)|xy``): a
# position then costs a check per distinct first character.
#
# The matches stay the same. sre takes the first alternative, in order, that lets the
# whole pattern match. Alternatives that start with different literal characters cannot
# both match at one position, so their order among themselves does not matter; those with
# the same first character keep their order inside the group (``a(?:X|Y)`` tries what
# ``aX|aY`` tries, in the same order). An alternative that does not start with a literal
# keeps its place, and no alternative that it could compete with (one whose first
# character it may start with, or any when that set is unknown) is moved across it.

_REGEX_SPECIAL = frozenset("\\.^$*+?{}[]|()")


def _top_branches(source: str) -> list[str]:
    """``source`` cut at every ``|`` outside groups and character sets."""
    out: list[str] = []
    start = depth = i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a set ends at the first "]" that is not its first member or escaped
            i += 1
            if source[i : i + 1] == "^":
                i += 1
            if source[i : i + 1] == "]":
                i += 1
            while i < len(source) and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
            i += 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(source[start:i])
            start = i + 1
        i += 1
    out.append(source[start:])
    return out


@lru_cache(maxsize=32)
def _alternatives(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """The sources of ``pattern``'s top-level alternatives, or None when it is not a
    top-level alternation that can be cut safely: case-insensitive, verbose (spaces and
    comments), with capturing groups, or not split the way sre parses it. (Cached: the
    check parses every alternative, and the folded cue patterns are cut twice.)"""
    import re._parser as sre

    source, flags = pattern.pattern, pattern.flags
    if not isinstance(source, str) or flags & (re.I | re.X) or pattern.groups:
        return None
    branches = _top_branches(source)
    try:
        parsed = list(sre.parse(source, flags))
        if len(branches) < 2 or len(parsed) != 1 or parsed[0][0] is not sre.BRANCH:
            return None
        alternatives = parsed[0][1][1]
        # the cut must give exactly the alternatives sre sees
        if len(alternatives) != len(branches) or any(
            repr(sre.parse(b, flags).data) != repr(alt.data)
            for b, alt in zip(branches, alternatives, strict=True)
        ):
            return None
    except (TypeError, ValueError, IndexError, re.error):
        return None
    return tuple(branches)


def _grouped_branches(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with its top-level alternatives grouped by first character (see above).

    Returns ``pattern`` itself when it is not a top-level alternation this can cut
    safely: case-insensitive, verbose (spaces and comments), with capturing groups, or not
    split the way sre parses it.
    """
    flags = pattern.flags
    branches = _alternatives(pattern)
    if branches is None:
        return pattern
    try:
        # (first literal character or None, alternatives, characters it may start with)
        entries: list[tuple[str | None, list[str], set[str] | None]] = []
        for branch in branches:
            head = branch[:1]
            if not head or head in _REGEX_SPECIAL or branch[1:2] in ("?", "*", "+", "{"):
                entries.append((None, [branch], _first_chars(re.compile(branch, flags))))
                continue
            for entry in reversed(entries):
                if entry[0] == head:
                    entry[1].append(branch)
                    break
                if entry[2] is None or head in entry[2]:
                    entries.append((head, [branch], {head}))
                    break
            else:
                entries.append((head, [branch], {head}))
        parts = [
            alts[0] if len(alts) == 1 else re.escape(head) + "(?:" + "|".join(a[1:] for a in alts) + ")"
            for head, alts, _ in entries
        ]
        grouped = "|".join(parts)
        starts = [chars for _, _, chars in entries]
        if any(head is None for head, _, _ in entries) and all(starts):
            # sre checks a first-character set before trying the alternatives only when
            # each starts with a literal; otherwise a lookahead on that set does it
            chars = set().union(*starts)  # type: ignore[arg-type]
            grouped = f"(?=[{''.join(re.escape(c) for c in sorted(chars))}])(?:{grouped})"
        return re.compile(grouped, flags)
    except (TypeError, ValueError, IndexError, re.error):
        return pattern


@lru_cache(maxsize=4)
def _folded_text(text: str) -> str | None:
    return _fold_text(text)


@lru_cache(maxsize=8)
def _count(pattern: re.Pattern[str], text: str) -> int:
    """``len(pattern.findall(text))``; the rules and the features scan the same texts."""
    folded = _folded_pattern(pattern)
    if folded is not None:
        folded_text = _folded_text(text)
        if folded_text is not None:
            return len(folded.findall(folded_text))
    return len(_prefiltered(pattern).findall(text))


# --- the three cue counts in one scan ---------------------------------------------------------
# The rules and the features count all three cue patterns in a document's text and in its HR
# context. A scan of a text costs about the same however few matches it finds: sre enters its
# matcher at every position whose character can start an alternative (three positions in
# four of a news text, for the three patterns together) and tries the alternatives there. So
# one scan finds the positions at which any of the patterns matches, and each pattern's own
# findall is then replayed over those few positions.
#
# That scan enters the matcher at fewer positions still: each alternative is looked for from
# its rarest character among the literal characters it starts with (the "g" of "drug", with a
# lookbehind on "dru" and a lookahead on the rest), and each position found, moved back by
# the offsets of the alternatives looked for from that character, is kept if the three
# patterns' union matches there. Every position where a pattern matches is kept: one of its
# alternatives matches there, so the scan finds that alternative's rare character at its
# offset.
#
# Replaying findall: findall tries a pattern at every position from where its last match
# ended and takes the match it finds at the first position where there is one. A position
# where the pattern matches is one where some pattern matches, so the first such position
# from any point is the first of the kept positions from that point, and trying the pattern
# there (``Pattern.match`` at that position, which sees the characters before it as findall
# does) gives the same match. Replayed from the start, that gives the matches of findall.

#: The cue patterns, in the order of the counts of :func:`_cue_counts`.
_CUES: tuple[re.Pattern[str], ...] = (_CRITICAL_CUES, _OPPOSED_CUES, _CONTEXT_CUES)

#: Characters from the most to the least frequent in English text; others are rarer still.
#: Only the speed of :func:`_anchored_starts`'s pattern depends on it, never a count.
_FREQUENT = " etaoinsrhldcumfpgwybvkxjqz"


def _fixed_start(branch: str) -> list[tuple[str, str | None]]:
    """The start of an alternative's source that matches one character per item:
    ``(source, character)`` for a literal character, ``(source, None)`` for a set of literal
    characters (``[- ]``); it ends before anything else, and a quantifier takes back the
    item it applies to."""
    items: list[tuple[str, str | None]] = []
    i = 0
    while i < len(branch):
        ch = branch[i]
        if ch in "?*+{":
            if items:
                items.pop()
            break
        if ch == "\\":
            escaped = branch[i + 1 : i + 2]
            if not escaped or escaped.isalnum():  # \b, \w, \d, \x41, \1...
                break
            items.append((branch[i : i + 2], escaped))
            i += 2
        elif ch == "[":
            end = branch.find("]", i + 2)
            body = branch[i + 1 : end]
            if end < 0 or body[:1] == "^" or "\\" in body or "[" in body or "-" in body[1:-1]:
                break
            items.append((branch[i : end + 1], None))
            i = end + 1
        elif ch in _REGEX_SPECIAL:
            break
        else:
            items.append((ch, ch))
            i += 1
    return items


def _anchored_starts(
    patterns: Sequence[re.Pattern[str]],
) -> tuple[re.Pattern[str], dict[str, tuple[int, ...]]] | None:
    """A pattern whose matches are single characters, and the offsets to move them back by,
    that find (among others) every position at which one of ``patterns`` matches (see above).

    Each alternative becomes its rarest literal starting character, with a lookbehind on the
    characters before it and a lookahead on the rest of the alternative; the offsets are
    those of the alternatives looked for from each character. None unless every alternative
    starts with a literal character and the patterns share their (not verbose) flags.
    """
    import re._parser as sre

    flags = {p.flags for p in patterns}
    if len(flags) != 1:
        return None
    # the lookarounds of the alternatives looked for from each character (by its source)
    parts: dict[str, list[str]] = {}
    offsets: dict[str, set[int]] = {}
    try:
        for pattern in patterns:
            branches = _alternatives(pattern)
            if branches is None:
                return None
            for branch in branches:
                items = _fixed_start(branch)
                # the items must be what sre sees: one character each
                parsed = list(sre.parse("".join(src for src, _ in items), pattern.flags))
                if len(parsed) != len(items) or any(
                    op not in (sre.LITERAL, sre.IN) or (ch is not None and (op, av) != (sre.LITERAL, ord(ch)))
                    for (op, av), (_, ch) in zip(parsed, items, strict=True)
                ):
                    return None
                chars = [(k, ch) for k, (_, ch) in enumerate(items) if ch is not None]
                if not chars:
                    return None
                rarity = {ch: _FREQUENT.find(ch) if ch in _FREQUENT else len(_FREQUENT) for _, ch in chars}
                k, anchor = max(chars, key=lambda c: (rarity[c[1]], -c[0]))
                behind = "".join(src for src, _ in items[: k + 1]) if k else ""
                ahead = "".join(src for src, _ in items[k + 1 :]) + branch[sum(len(s) for s, _ in items) :]
                around = (f"(?<={behind})" if behind else "") + (f"(?={ahead})" if ahead else "")
                parts.setdefault(items[k][0], []).append(around)
                offsets.setdefault(anchor, set()).add(k)
        # grouped by character ("g(?:(?<=dru)|...)"): whether some alternative matches at a
        # position does not depend on their order
        starts = re.compile(
            "|".join(f"{src}(?:{'|'.join(arounds)})" for src, arounds in parts.items()), flags.pop()
        )
    except (TypeError, ValueError, IndexError, re.error):
        return None
    return starts, {ch: tuple(sorted(ks)) for ch, ks in offsets.items()}


class _Scanner(NamedTuple):
    """What :func:`_scan_counts` needs to count several cue patterns in one scan."""

    starts: re.Pattern[str]  # the anchored starts pattern of :func:`_anchored_starts`
    offsets: dict[str, tuple[int, ...]]  # its offsets
    union: re.Pattern[str]  # the union of the folded patterns
    patterns: tuple[re.Pattern[str], ...]  # the folded patterns, grouped (_folded_pattern)


def _scanner(patterns: Sequence[re.Pattern[str]]) -> _Scanner | None:
    """The :class:`_Scanner` of case-insensitive ``patterns``; None when one of them has no
    folded form (:func:`_folded_pattern`) or no anchored form (:func:`_anchored_starts`)."""
    folded = [_folded_pattern(p) for p in patterns]
    if any(f is None for f in folded):
        return None
    # the folded sources before grouping, as _folded_pattern folds them
    plain = [
        re.compile("".join(chr(_fold_code(ord(c))) for c in p.pattern), p.flags & ~re.I) for p in patterns
    ]
    anchored = _anchored_starts(plain)
    if anchored is None:
        return None
    # only tried at the few positions the scan finds: not grouped
    union = re.compile("|".join(f"(?:{f.pattern})" for f in folded), plain[0].flags)  # type: ignore[union-attr]
    return _Scanner(anchored[0], anchored[1], union, tuple(folded))  # type: ignore[arg-type]


def _scan_counts(scanner: _Scanner | None, patterns: Sequence[re.Pattern[str]], text: str) -> tuple[int, ...]:
    """``len(p.findall(text))`` for each of ``patterns``, whose :func:`_scanner` is ``scanner``."""
    folded_text = _folded_text(text) if scanner is not None else None
    if scanner is None or folded_text is None:
        return tuple(_count(p, text) for p in patterns)
    offsets = scanner.offsets
    found = set()
    for m in scanner.starts.finditer(folded_text):
        q = m.start()
        for k in offsets[m.group()]:
            if k <= q:
                found.add(q - k)
    matches_any = scanner.union.match
    positions = [p for p in sorted(found) if matches_any(folded_text, p) is not None]
    counts = []
    for pattern in scanner.patterns:
        n = end = 0
        match = pattern.match
        for pos in positions:
            if pos >= end:
                m = match(folded_text, pos)
                if m is not None:
                    n += 1
                    end = m.end()
        counts.append(n)
    return tuple(counts)


@lru_cache(maxsize=1)
def _cue_scanner() -> _Scanner | None:
    return _scanner(_CUES)


@lru_cache(maxsize=8)
def _cue_counts(text: str) -> tuple[int, ...]:
    """``len(p.findall(text))`` for each pattern of :data:`_CUES`, in one scan (see above);
    the rules and the features read the same texts."""
    return _scan_counts(_cue_scanner(), _CUES, text)


# --- gold documents ----------------------------------------------------------------------


@dataclass
class GoldDocument:
    """One gold document: text, gold label, split and front-matter metadata."""

    id: str
    label: str
    split: str
    text: str
    doc_type: str = "other"
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""


def _split_front_matter(raw: str, path: Path) -> tuple[dict[str, Any], str]:
    if not raw.startswith("---"):
        return {}, raw
    parts = raw.split("\n---", 1)
    if len(parts) != 2:
        raise ConfigError(
            f"{path}: front matter opened with '---' is never closed; end it with a '---' line."
        )
    head = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: front matter is not valid YAML ({exc}).") from exc
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: front matter must be a YAML mapping (label: ..., split: ...).")
    return meta, body.strip("\n")


def _default_seed_path() -> Path | None:
    repo = Path(__file__).resolve().parent.parent
    for candidate in (
        repo / "corpora" / "sample" / "seed-report.md",
        repo.parent / "shared" / "seed" / "000_feedc02ac9763eb9.txt",
    ):
        if candidate.is_file():
            return candidate
    return None


def load_gold_documents(
    folder: str | Path,
    *,
    split: str | None = None,
    include_seed: bool | str | Path = False,
    language: str | None = "en",
) -> list[GoldDocument]:
    """Read ``gold-*.txt`` documents with YAML front matter from ``folder``.

    Args:
        folder: Directory of gold documents (``corpora/gold/documents``).
        split: Keep only documents of this split (``train`` or ``test``); all when None.
        include_seed: Add the seed report as a ``critical`` train document. ``True``
            looks for ``corpora/sample/seed-report.md`` (then the shared seed copy); a
            path names the file.
        language: Keep only documents whose front matter ``language`` is this code
            (missing = ``en``), so French gold documents (``gold-fr-*``) never reach an
            English pipeline; ``None`` keeps every language.

    Returns:
        Documents sorted by id.

    Raises:
        ConfigError: The folder is missing, or a file lacks ``label``/``split`` or has
            a label outside :data:`~hrdiscourse.types.LABELS`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: gold document folder not found; expected corpora/gold/documents.")
    docs: list[GoldDocument] = []
    for path in sorted(folder.glob("*.txt")):
        meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
        if language is not None and str(meta.get("language") or "en") != language:
            continue
        label = meta.get("label")
        if label not in LABELS:
            raise ConfigError(
                f"{path}: front matter 'label' is {label!r}; expected one of {', '.join(LABELS)}."
            )
        doc_split = str(meta.get("split", ""))
        if doc_split not in ("train", "test"):
            raise ConfigError(f"{path}: front matter 'split' is {doc_split!r}; expected train or test.")
        doc_type = str(meta.get("doc_type") or "other")
        docs.append(
            GoldDocument(
                id=str(meta.get("id") or path.stem),
                label=str(label),
                split=doc_split,
                text=body,
                doc_type=doc_type if doc_type in DOC_TYPES else "other",
                meta=meta,
                path=str(path),
            )
        )
    if include_seed:
        seed = _default_seed_path() if include_seed is True else Path(include_seed)
        if seed is None or not seed.is_file():
            raise ConfigError(
                f"seed report not found ({seed or 'corpora/sample/seed-report.md'}); "
                "copy it there or pass include_seed=PATH."
            )
        docs.append(
            GoldDocument(
                id="seed-report",
                label="critical",
                split="train",
                text=seed.read_text(encoding="utf-8"),
                doc_type="ngo",
                meta={"title": "Sex Work and Harm Reduction Discourse: A Reflection", "constructed": False},
                path=str(seed),
            )
        )
    if split is not None:
        docs = [d for d in docs if d.split == split]
    return sorted(docs, key=lambda d: d.id)


def analyse_documents(docs: Sequence[GoldDocument], nlp: Any) -> list[dict[str, Any]]:
    """Run a detection pipeline over gold documents and return result dicts.

    Args:
        docs: Gold documents.
        nlp: A pipeline from :func:`hrdiscourse.load_pipeline` (the caller owns it:
            this module keeps no spaCy state).

    Returns:
        One dict per document with ``doc_id``, ``text``, ``doc_type`` and the
        ``hr_mentions``/``signals``/``links`` of ``doc_to_dict``.
    """
    from .nlp.serialize import doc_to_dict  # lazy: classification itself never needs spaCy

    results = []
    for gold, doc in zip(docs, nlp.pipe([d.text for d in docs]), strict=True):
        result = {"doc_id": gold.id, "text": gold.text, "doc_type": gold.doc_type}
        result.update(doc_to_dict(doc))
        results.append(result)
    return results


# --- features ------------------------------------------------------------------------------


def _is_active(span: Mapping[str, Any]) -> bool:
    return not span.get("negated") and not span.get("critical")


_STRENGTH_RANK: dict[str, int] = {s: i for i, s in enumerate(STRENGTHS)}


def _signal_strengths(result: Mapping[str, Any]) -> dict[str, str]:
    """Best (closest) link strength of every signal id; ``unlinked`` when none."""
    rank = _STRENGTH_RANK
    best: dict[str, str] = {}
    for link in result.get("links") or []:
        sid, strength = link.get("signal"), link.get("strength")
        if strength not in rank:
            continue
        if sid not in best or rank[strength] < rank[best[sid]]:
            best[sid] = strength
    return {s["id"]: best.get(s["id"], "unlinked") for s in result.get("signals") or []}


def _frac(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def hr_context(result: Mapping[str, Any]) -> str:
    """The sentences around harm-reduction mentions, for n-gram features.

    The sentences of every HR mention plus those of signals linked to a mention at
    ``direct``/``sentence``/``nearby`` strength (the linker's window), in text order.
    """
    return _hr_context(result, _signal_strengths(result))


def _hr_context(result: Mapping[str, Any], strengths: Mapping[str, str]) -> str:
    """:func:`hr_context` from the document's :func:`_signal_strengths`."""
    sents: dict[int, str] = {}
    for span in result.get("hr_mentions") or []:
        sents[int(span.get("sent_start", 0))] = span.get("sentence", "")
    for span in result.get("signals") or []:
        if strengths.get(span["id"]) in NEAR_STRENGTHS:
            sents[int(span.get("sent_start", 0))] = span.get("sentence", "")
    return " ".join(sents[k] for k in sorted(sents))


class _Facts:
    """What :func:`rule_label`, :func:`featurize` and the model's rows all read from one result.

    :func:`label_documents` makes one per document and hands it to the three: the link
    strengths and the HR context were computed two and three times per document. The two
    are computed on first use (a document without mentions needs neither for its rules).
    """

    __slots__ = ("_context", "_strengths", "mentions", "result", "signals")

    def __init__(self, result: Mapping[str, Any]) -> None:
        self.result = result
        self.mentions = list(result.get("hr_mentions") or [])
        self.signals = list(result.get("signals") or [])
        self._strengths: dict[str, str] | None = None
        self._context: str | None = None

    # plain properties: functools.cached_property takes a lock on every first use (Python 3.11)
    @property
    def strengths(self) -> dict[str, str]:
        if self._strengths is None:
            self._strengths = _signal_strengths(self.result)
        return self._strengths

    @property
    def context(self) -> str:
        if self._context is None:
            self._context = _hr_context(self.result, self.strengths)
        return self._context


_SPAN_FLAGS = ("negated", "critical", "hedged", "quoted")


def featurize(result: Mapping[str, Any]) -> dict[str, float]:
    """Link and context features of one analysed document.

    Counts are ``log1p``-scaled so that a long report and a short release are
    comparable; fractions are in [0, 1].

    Args:
        result: An analysed document (``hr_mentions``, ``signals``, ``links``,
            ``text``, ``doc_type``).

    Returns:
        Feature name to value; absent features are zero.
    """
    return _featurize(_Facts(result))


def _featurize(facts: _Facts) -> dict[str, float]:
    """:func:`featurize` of ``facts.result``.

    The signals are read in one pass (they were read in nine); the features are set in
    the same order as before, since the order of a row's features is the order of its
    entries in the sparse matrix, and so of the sums behind the model's probabilities.
    """
    result = facts.result
    mentions = facts.mentions
    signals = facts.signals
    strengths = facts.strengths
    text = str(result.get("text") or "")
    log1p = math.log1p
    f: dict[str, float] = {}
    n_hr = len(mentions)
    f["hr_any"] = float(n_hr > 0)
    f["hr_n"] = log1p(n_hr)
    for flag in _SPAN_FLAGS:
        f[f"hr_{flag}_frac"] = _frac(sum(bool(m.get(flag)) for m in mentions), n_hr)
    f["hr_speaker_frac"] = _frac(sum(bool(m.get("speaker")) for m in mentions), n_hr)

    n_coop = n_ext = n_aligned = 0
    coop_negated = coop_critical = coop_hedged = coop_quoted = 0
    coop_near = ext_near = aligned_near = 0
    # the coop_active_* / coop_inactive_* and cat_* features, in first-seen order
    by_strength: dict[str, int] = {}
    by_cat: dict[str, int] = {}
    speaker = any(m.get("speaker") for m in mentions)
    for s in signals:
        kind = s.get("kind")
        if kind == "coopting":
            n_coop += 1
            negated, critical = s.get("negated"), s.get("critical")
            if negated:
                coop_negated += 1
            if critical:
                coop_critical += 1
            if s.get("hedged"):
                coop_hedged += 1
            if s.get("quoted"):
                coop_quoted += 1
            strength = strengths.get(s["id"], "unlinked")
            if not negated and not critical:
                near = strength in NEAR_STRENGTHS
                key = f"coop_active_{strength}"
                by_strength[key] = by_strength.get(key, 0) + 1
                key = f"cat_{s.get('category', '')}_{'near' if near else 'far'}"
                by_cat[key] = by_cat.get(key, 0) + 1
                if near:
                    coop_near += 1
            else:
                key = f"coop_inactive_{strength}"
                by_strength[key] = by_strength.get(key, 0) + 1
        elif kind == "extension":
            n_ext += 1
            if strengths.get(s["id"]) in NEAR_STRENGTHS:
                ext_near += 1
        elif kind == "aligned":
            n_aligned += 1
            if strengths.get(s["id"]) in NEAR_STRENGTHS and _is_active(s):
                aligned_near += 1
        if not speaker and s.get("speaker"):
            speaker = True
    f["coop_n"] = log1p(n_coop)
    f["ext_n"] = log1p(n_ext)
    f["aligned_n"] = log1p(n_aligned)
    f["coop_negated_frac"] = _frac(coop_negated, n_coop)
    f["coop_critical_frac"] = _frac(coop_critical, n_coop)
    f["coop_hedged_frac"] = _frac(coop_hedged, n_coop)
    f["coop_quoted_frac"] = _frac(coop_quoted, n_coop)
    for key, n in by_strength.items():
        f[key] = log1p(n)
    for key, n in by_cat.items():
        f[key] = log1p(n)
    f["ext_near"] = log1p(ext_near)
    f["aligned_near"] = log1p(aligned_near)
    f["coop_near"] = log1p(coop_near)
    f["ext_share"] = _frac(n_ext, len(signals))
    f["coop_share"] = _frac(n_coop, len(signals))
    f["speaker_present"] = float(speaker)
    f[f"doc_type={result.get('doc_type') or 'other'}"] = 1.0
    critical_doc, opposed_doc, context_doc = _cue_counts(text)
    critical_ctx, opposed_ctx, context_ctx = _cue_counts(facts.context)
    f["cue_critical"] = log1p(critical_doc)
    f["cue_opposed_ctx"] = log1p(opposed_ctx)
    f["cue_opposed_doc"] = log1p(opposed_doc)
    f["cue_critical_ctx"] = log1p(critical_ctx)
    f["cue_context_ctx"] = log1p(context_ctx)
    f["cue_context_doc"] = log1p(context_doc)
    return {k: v for k, v in f.items() if v}


# --- rules -----------------------------------------------------------------------------


@dataclass
class RuleOutcome:
    """What the rule layer decided and why."""

    label: str
    scores: dict[str, float]
    evidence: list[dict[str, Any]]
    rule: str


def _span_evidence(span: Mapping[str, Any], reason: str, weight: float) -> dict[str, Any]:
    sentence = str(span.get("sentence") or span.get("text") or "")
    start = int(span.get("sent_start", span.get("start", 0)))
    return {
        "sentence": sentence,
        "start": start,
        "end": start + len(sentence),
        "reason": reason,
        "weight": weight,
    }


def _dedupe(evidence: list[dict[str, Any]], limit: int = 5) -> list[dict[str, Any]]:
    seen: set[tuple[int, str]] = set()
    out = []
    for ev in evidence:
        key = (ev["start"], ev["reason"])
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out[:limit]


def _normalise(raw: Mapping[str, float]) -> dict[str, float]:
    total = sum(raw.values()) or 1.0
    return {lab: round(raw.get(lab, 0.0) / total, 4) for lab in LABELS}


_Spans = list[Mapping[str, Any]]


def _rule_signals(facts: _Facts) -> tuple[_Spans, _Spans, _Spans, _Spans, _Spans]:
    """The signals the rules read, each list in signal order, sorted out in one pass.

    Returns:
        Active co-opting signals linked within the window (``direct``/``sentence``/
        ``nearby``), active co-opting signals only further away, extension signals within
        the window, active aligned signals within the window, critical co-opting signals.
    """
    strengths = facts.strengths
    coop_near: _Spans = []
    coop_far: _Spans = []
    ext_near: _Spans = []
    aligned_near: _Spans = []
    crit_signals: _Spans = []
    for s in facts.signals:
        kind = s.get("kind")
        if kind == "coopting":
            if s.get("critical"):
                crit_signals.append(s)
            if _is_active(s):
                (coop_near if strengths.get(s["id"]) in NEAR_STRENGTHS else coop_far).append(s)
        elif kind == "extension":
            if strengths.get(s["id"]) in NEAR_STRENGTHS:
                ext_near.append(s)
        elif kind == "aligned" and strengths.get(s["id"]) in NEAR_STRENGTHS and _is_active(s):
            aligned_near.append(s)
    return coop_near, coop_far, ext_near, aligned_near, crit_signals


def rule_label(result: Mapping[str, Any]) -> RuleOutcome:
    """Label a document with the transparent rules of ``DOMAIN.md`` §3.

    Rules, first that fires wins:

    1. ``none``: no harm-reduction mention.
    2. ``extension``: HR mentions tied (direct/sentence/nearby) to domain-extension
       spans at least as often as to any other signal, and no sex-work/drug context
       around them (report §3, endnote xxii).
    3. ``critical``: critical-flagged mentions/signals make up at least a third of the
       HR mentions plus active near co-opting signals, or critical cues appear
       around a critical-flagged span (report §2 "co-opted").
    4. ``opposed``: HR mentions negated or rejected, abstinence/recovery cues around
       them and no critical cue.
    5. ``coopted``: a non-negated, non-critical co-opting signal linked
       direct/sentence/nearby to an HR mention.
    6. ``copresent``: active co-opting signals only at document distance.
    7. ``aligned``: otherwise.

    Args:
        result: An analysed document.

    Returns:
        The label, a score for every label, evidence sentences and the rule's name.
    """
    return _rule_label(_Facts(result))


def _rule_label(facts: _Facts) -> RuleOutcome:
    """:func:`rule_label` of ``facts.result``."""
    result = facts.result
    mentions = facts.mentions
    if not mentions:
        ev = {
            "sentence": NONE_REASON,
            "start": 0,
            "end": 0,
            "reason": f"rule none: {NONE_REASON}",
            "weight": 1.0,
        }
        return RuleOutcome("none", _normalise({"none": 1.0}), [ev], "none")
    strengths = facts.strengths
    text = str(result.get("text") or "")
    context = facts.context

    coop_near, coop_far, ext_near, aligned_near, crit_signals = _rule_signals(facts)
    crit_mentions = [m for m in mentions if m.get("critical")]
    neg_mentions = [m for m in mentions if m.get("negated") and not m.get("critical")]
    n_critical_cues = _cue_counts(text)[0]
    _, opposed_hits, context_hits = _cue_counts(context)

    crit_weight = len(crit_mentions) + 0.5 * len(crit_signals)
    crit_base = len(mentions) + len(coop_near)
    raw = {
        "extension": len(ext_near) / (1 + len(coop_near) + len(aligned_near) + context_hits),
        "critical": crit_weight / max(crit_base, 1) + 0.1 * min(n_critical_cues, 5),
        "opposed": (len(neg_mentions) / len(mentions)) * (opposed_hits > 0) * (n_critical_cues == 0),
        "coopted": len(coop_near) / (1 + len(coop_near) + len(crit_mentions)),
        "copresent": 0.5 * bool(coop_far) * (not coop_near),
        "aligned": 0.3 + 0.1 * len(aligned_near),
    }

    if ext_near and len(ext_near) >= len(coop_near) + len(aligned_near) and context_hits == 0:
        raw["extension"] += 1.0
        ev = [_span_evidence(s, f"rule extension: HR applied to {s.get('category')}", 1.0) for s in ext_near]
        return RuleOutcome("extension", _normalise(raw), _dedupe(ev), "extension")
    if (crit_mentions or crit_signals) and (
        crit_weight >= max(1.0, crit_base / 3) or (n_critical_cues and crit_mentions)
    ):
        raw["critical"] += 1.0
        ev = [
            _span_evidence(m, "rule critical: harm reduction in a critical frame", 1.0) for m in crit_mentions
        ]
        ev += [
            _span_evidence(s, f"rule critical: {s.get('category')} named to reject it", 0.5)
            for s in crit_signals
        ]
        return RuleOutcome("critical", _normalise(raw), _dedupe(ev), "critical")
    if neg_mentions and opposed_hits and not n_critical_cues:
        raw["opposed"] += 1.0
        ev = [_span_evidence(m, "rule opposed: harm reduction negated/rejected", 1.0) for m in neg_mentions]
        return RuleOutcome("opposed", _normalise(raw), _dedupe(ev), "opposed")
    if coop_near:
        raw["coopted"] += 1.0
        ev = [
            _span_evidence(s, f"rule coopted: {s.get('category')} linked ({strengths[s['id']]}) to HR", 1.0)
            for s in sorted(coop_near, key=lambda s: STRENGTHS.index(strengths[s["id"]]))
        ]
        return RuleOutcome("coopted", _normalise(raw), _dedupe(ev), "coopted")
    if coop_far:
        raw["copresent"] += 1.0
        ev = [_span_evidence(m, "rule copresent: HR mention", 1.0) for m in mentions[:2]]
        ev += [
            _span_evidence(s, f"rule copresent: {s.get('category')} at document distance", 0.5)
            for s in coop_far
        ]
        return RuleOutcome("copresent", _normalise(raw), _dedupe(ev), "copresent")
    raw["aligned"] += 1.0
    ev = [
        _span_evidence(m, "rule aligned: HR framing without a linked co-opting signal", 1.0) for m in mentions
    ]
    ev += [_span_evidence(s, f"rule aligned: {s.get('category')}", 0.5) for s in aligned_near]
    return RuleOutcome("aligned", _normalise(raw), _dedupe(ev), "aligned")


def rule_features(result: Mapping[str, Any], outcome: RuleOutcome | None = None) -> dict[str, float]:
    """The rule layer's decision as model features (``rule=<label>`` and its scores).

    ``outcome`` is ``rule_label(result)`` when the caller has it already.
    """
    if outcome is None:
        outcome = rule_label(result)
    feats = {f"rule={outcome.label}": 1.0}
    feats.update({f"rule_score_{k}": v for k, v in outcome.scores.items() if v})
    return feats


def baseline_label(result: Mapping[str, Any]) -> str:
    """Dictionary baseline: HR term and any co-opting keyword anywhere → coopted.

    HR term only → aligned; no HR term → none. Reads only ``text``.
    """
    text = str(result.get("text") or "")
    if not _HR_TERM.search(text):
        return "none"
    return "coopted" if _BASELINE_COOPTING.search(text) else "aligned"


# --- model -----------------------------------------------------------------------------


def _rows(
    results: Sequence[Mapping[str, Any]],
    *,
    with_rules: bool,
    outcomes: Sequence[RuleOutcome | None] | None = None,
    feats: Sequence[Mapping[str, float]] | None = None,
    contexts: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The model's input rows (``feats``, ``context``); ``outcomes`` and ``feats`` as in
    :func:`_frame`, ``contexts`` the :func:`hr_context` strings when already known."""
    rows = []
    for i, r in enumerate(results):
        facts = _Facts(r)  # what featurize, the rules and the context share
        feats_i = dict(feats[i]) if feats is not None else _featurize(facts)
        if with_rules:
            outcome = outcomes[i] if outcomes is not None else None
            feats_i.update(rule_features(r, outcome if outcome is not None else _rule_label(facts)))
        rows.append({"feats": feats_i, "context": contexts[i] if contexts is not None else facts.context})
    return rows


def _frame(
    results: Sequence[Mapping[str, Any]],
    *,
    with_rules: bool,
    outcomes: Sequence[RuleOutcome | None] | None = None,
    feats: Sequence[Mapping[str, float]] | None = None,
) -> Any:
    """The model's input table; ``outcomes`` are the rule outcomes and ``feats`` the
    :func:`featurize` dicts when already known."""
    import pandas as pd

    rows = _rows(results, with_rules=with_rules, outcomes=outcomes, feats=feats)
    return pd.DataFrame(rows, columns=["feats", "context"])


class _DictRows:
    """``DictVectorizer.transform`` of feature dicts whose values are all floats.

    Built as ``DictVectorizer._transform`` builds it for number values (the same entries in
    the same order, then ``sort_indices``), without its per-value type dispatch; any other
    value hands the whole batch to the vectorizer itself.
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.vocabulary_

    def transform(self, dicts: Sequence[Mapping[str, Any]]) -> Any:
        import numpy as np
        import scipy.sparse as sp

        vec, vocab = self.vectorizer, self.vocabulary
        indices: list[int] = []
        values: list[float] = []
        indptr = [0]
        for x in dicts:
            for f, v in x.items():
                if type(v) is not float:
                    return vec.transform(dicts)
                j = vocab.get(f)
                if j is not None:
                    indices.append(j)
                    values.append(v)
            indptr.append(len(indices))
        if len(indptr) == 1:
            return vec.transform(dicts)  # its own error for an empty batch
        X = sp.csr_matrix(
            (np.asarray(values, dtype=vec.dtype), np.asarray(indices, dtype=np.intc), indptr),
            shape=(len(dicts), len(vocab)),
            dtype=vec.dtype,
        )
        X.sort_indices()
        return X


class _WordCounts:
    """``TfidfVectorizer.transform``, its term counts made from a :class:`~collections.Counter`.

    ``CountVectorizer._count_vocab`` looks every n-gram up in the vocabulary and catches a
    ``KeyError`` for each one outside it (most bigrams of a context); here the n-grams of a
    document (from the vectorizer's own analyzer) are counted in C first and those in the
    vocabulary are picked by a set intersection. The count matrix is built as
    ``_count_vocab`` builds it (same counts, index types and sorted indices), so the TF-IDF
    step on top of it, the vectorizer's own, gives the same floats (``tests/test_classify.py``
    compares them).
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_

    def transform(self, docs: Sequence[str]) -> Any:
        import numpy as np
        import scipy.sparse as sp

        vec, vocab, analyze = self.vectorizer, self.vocabulary, self.analyze
        if isinstance(docs, str):
            return vec.transform(docs)  # its own error
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in docs:
            counts = Counter(analyze(doc))
            # the n-grams in the vocabulary, in C; in any order, as the indices are sorted below
            known = counts.keys() & vocab.keys()
            indices.extend(map(vocab.__getitem__, known))
            values.extend(map(counts.__getitem__, known))
            indptr.append(len(indices))
        X = sp.csr_matrix(
            (
                np.asarray(values, dtype=np.intc),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(docs), len(vocab)),
            dtype=vec.dtype,
        )
        X.sort_indices()
        if vec.binary:
            X.data.fill(1)
        return vec._tfidf.transform(X, copy=False)


def _direct_transform(transformer: Any) -> Any:
    """The function :meth:`LabelModel.transform` calls for one fitted column transformer."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer

    if type(transformer) is DictVectorizer and transformer.sparse:
        return _DictRows(transformer).transform
    if type(transformer) is TfidfVectorizer and hasattr(transformer, "_tfidf"):
        return _WordCounts(transformer).transform
    return transformer.transform


def _make_pipeline(*, C: float = 1.0) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    features = ColumnTransformer(
        [
            ("feats", DictVectorizer(), "feats"),
            (
                "ngrams",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=5000),
                "context",
            ),
        ]
    )
    clf = LogisticRegression(class_weight="balanced", C=C, max_iter=5000)
    return Pipeline([("features", features), ("clf", clf)])


@dataclass
class LabelModel:
    """A trained label classifier and its metadata (the JSON sidecar)."""

    pipeline: Any
    meta: dict[str, Any]

    @property
    def with_rules(self) -> bool:
        return bool(self.meta.get("rule_features", False))

    @cached_property
    def _classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @cached_property
    def _feature_names(self) -> list[str]:
        # get_feature_names_out rebuilds the vocabulary list on every call
        return [str(n) for n in self.pipeline.named_steps["features"].get_feature_names_out()]

    @cached_property
    def _direct(self) -> list[tuple[str, Any]] | None:
        """``(column, transform)`` of the ColumnTransformer's fitted transformers when
        :meth:`transform` may call them itself, else None.

        The ColumnTransformer's own ``transform`` builds a DataFrame, validates it, and
        dispatches through joblib: a few milliseconds per document, more than the features
        themselves. Called directly, the transformers give the same blocks (the vectorizers
        through :class:`_DictRows` and :class:`_WordCounts`), stacked by the
        ColumnTransformer's own ``_hstack``, so the matrix is the same.
        """
        ct = self.pipeline.named_steps["features"]
        fitted = [
            t for t in getattr(ct, "transformers_", []) if not (isinstance(t[1], str) and t[1] == "drop")
        ]
        if (
            not getattr(ct, "sparse_output_", False)
            or not hasattr(ct, "_hstack")
            or getattr(ct, "remainder", None) != "drop"
            or [col for _, _, col in fitted] != ["feats", "context"]
            or any(isinstance(t, str) for _, t, _ in fitted)
        ):
            return None
        return [(col, _direct_transform(t)) for _, t, col in fitted]

    def transform(
        self,
        results: Sequence[Mapping[str, Any]],
        outcomes: Sequence[RuleOutcome | None] | None = None,
        feats: Sequence[Mapping[str, float]] | None = None,
    ) -> Any:
        """The model's feature matrix (sparse) of ``results``; ``outcomes`` and ``feats`` as in
        :func:`_frame`."""
        return self._transform(results, outcomes, feats)

    def _transform(
        self,
        results: Sequence[Mapping[str, Any]],
        outcomes: Sequence[RuleOutcome | None] | None = None,
        feats: Sequence[Mapping[str, float]] | None = None,
        contexts: Sequence[str] | None = None,
    ) -> Any:
        """:meth:`transform`, with the :func:`hr_context` strings when already known."""
        direct = self._direct
        if direct is None:
            frame = _frame(results, with_rules=self.with_rules, outcomes=outcomes, feats=feats)
            return self.pipeline.named_steps["features"].transform(frame)
        rows = _rows(results, with_rules=self.with_rules, outcomes=outcomes, feats=feats, contexts=contexts)
        blocks = [transform([row[col] for row in rows]) for col, transform in direct]
        return self.pipeline.named_steps["features"]._hstack(blocks, n_samples=len(rows))

    def predict_proba(self, results: Sequence[Mapping[str, Any]], *, X: Any = None) -> list[dict[str, float]]:
        """A probability for every label (labels unseen in training get 0).

        ``X`` is ``self.transform(results)`` when the caller has it already.
        """
        if X is None:
            X = self.transform(results)
        # the pipeline's predict_proba is this same transform then the classifier's
        proba = self.pipeline.steps[-1][1].predict_proba(X)
        classes = self._classes
        columns = [(lab, classes.index(lab) if lab in classes else None) for lab in LABELS]
        # tolist gives the Python floats that float() gives element by element
        return [{lab: 0.0 if j is None else row[j] for lab, j in columns} for row in proba.tolist()]

    def top_features(
        self, result: Mapping[str, Any], label: str, k: int = 5, *, X: Any = None
    ) -> list[tuple[str, float]]:
        """The ``k`` features that pushed this document most towards ``label``.

        ``X`` is ``self.transform([result])`` when the caller has it already.
        """
        if label not in self._classes:
            return []
        if X is None:
            X = self.transform([result])
        x = X.tocsr()[0]
        return self._top_features(label, x.data, x.indices, k)

    def _top_features(self, label: str, data: Any, indices: Any, k: int = 5) -> list[tuple[str, float]]:
        """:meth:`top_features` of a matrix row given as its CSR ``data`` and ``indices``.

        :func:`label_documents` passes slices of the batch matrix's arrays: the entries of
        a row in the same order as in the one-row matrix that slicing it with scipy would
        make, without making it (two scipy slices per document cost more than the rest).
        """
        classes = self._classes
        if label not in classes:
            return []
        names = self._feature_names
        coef = self.pipeline.named_steps["clf"].coef_
        row = coef[classes.index(label)] if coef.shape[0] > 1 else coef[0]
        # one array product: the same float64 products as feature by feature; the positive
        # ones kept in row order, so that the stable sort breaks ties as before
        products = data * row[indices]
        positive = products > 0
        contrib = [
            (names[j], p)
            for j, p in zip(indices[positive].tolist(), products[positive].tolist(), strict=True)
        ]
        return sorted(contrib, key=lambda c: -c[1])[:k]


def training_hash(results: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    """SHA-256 over (text, label) pairs in order: identifies the training data."""
    h = hashlib.sha256()
    for r, lab in zip(results, labels, strict=True):
        h.update(hashlib.sha256(str(r.get("text") or "").encode("utf-8")).digest())
        h.update(lab.encode("utf-8"))
    return h.hexdigest()


def _current_lexicons() -> dict[str, str]:
    """Names and versions of the detection lexicons (``lexicons/*.yaml`` meta)."""
    try:  # the lexicon module knows where the installed lexicons live
        from .lexicons import load_lexicons  # type: ignore[attr-defined]

        return {str(name): str(lex.version) for name, lex in sorted(load_lexicons("en").items())}
    except (ImportError, LexiconError):
        pass  # versions are provenance only: read them from the files' meta below
    folder = Path(__file__).resolve().parent.parent / "lexicons"
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.stem == "audit_rubric":
            continue
        try:
            meta = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("meta") or {}
        except yaml.YAMLError:
            continue
        if meta.get("name"):
            out[str(meta["name"])] = str(meta.get("version", ""))
    return out


def train(
    results: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    rule_features: bool = True,
    C: float = 1.0,
    extra_meta: Mapping[str, Any] | None = None,
) -> LabelModel:
    """Fit the label model: logistic regression over features + context n-grams.

    Args:
        results: Analysed documents.
        labels: Gold label of each document.
        rule_features: Add the rule layer's decision as features.
        C: Inverse regularisation strength.
        extra_meta: Merged into the model metadata (e.g. cross-validation numbers).

    Returns:
        The fitted model with its metadata.

    Raises:
        ConfigError: Lengths differ, a label is unknown, or fewer than two labels.
    """
    import sklearn

    if len(results) != len(labels):
        raise ConfigError(
            f"train: {len(results)} documents but {len(labels)} labels; pass one label per document."
        )
    unknown = sorted(set(labels) - set(LABELS))
    if unknown:
        raise ConfigError(f"train: unknown labels {unknown}; expected {', '.join(LABELS)}.")
    if len(set(labels)) < 2:
        raise ConfigError(
            "train: the training data has fewer than two labels; add documents of other labels."
        )
    pipeline = _make_pipeline(C=C)
    pipeline.fit(_frame(results, with_rules=rule_features), list(labels))
    # the terms dropped by min_df/max_features are only kept for introspection; they
    # would make up most of the shipped file
    tfidf = pipeline.named_steps["features"].named_transformers_["ngrams"]
    if hasattr(tfidf, "stop_words_"):
        del tfidf.stop_words_
    meta: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "sklearn": sklearn.__version__,
        "lexicons": _current_lexicons(),
        "training_data_sha256": training_hash(results, labels),
        "n_train": len(labels),
        "label_counts": dict(sorted(Counter(labels).items())),
        "rule_features": rule_features,
        "C": C,
    }
    meta.update(extra_meta or {})
    return LabelModel(pipeline, meta)


def save_model(model: LabelModel, path: str | Path = MODEL_PATH) -> list[Path]:
    """Write the model with skops (never pickle) and its JSON sidecar.

    Returns:
        The two written paths (``.skops`` and ``.json``).
    """
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model.pipeline, path)
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps(model.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [path, sidecar]


_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


def load_model(path: str | Path = MODEL_PATH) -> LabelModel:
    """Load a model written by :func:`save_model`, checking its versions.

    Only scikit-learn/numpy/scipy types are trusted when unpacking the skops file.
    A sidecar whose model version, scikit-learn version or lexicon versions differ
    from the running code gives a :class:`~hrdiscourse.errors.HRDiscourseWarning`.

    Raises:
        ModelError: The file or its sidecar is missing, unreadable or holds types
            outside scikit-learn/numpy/scipy.
    """
    import sklearn
    import skops.io as sio

    path = Path(path)
    sidecar = path.with_suffix(".json")
    if not path.is_file() or not sidecar.is_file():
        raise ModelError(
            f"{path}: label model or its sidecar {sidecar.name} not found; run `hrdiscourse train`."
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
        bad = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if bad:
            raise ModelError(
                f"{path}: model file holds untrusted types {bad}; retrain with `hrdiscourse train`."
            )
        pipeline = sio.load(path, trusted=untrusted)
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except ModelError:
        raise
    except Exception as exc:  # skops raises a variety of errors on corrupt files
        raise ModelError(f"{path}: cannot load the label model ({exc}); run `hrdiscourse train`.") from exc
    diffs = []
    if meta.get("model_version") != MODEL_VERSION:
        diffs.append(f"model version {meta.get('model_version')} (code expects {MODEL_VERSION})")
    if meta.get("sklearn") != sklearn.__version__:
        diffs.append(f"scikit-learn {meta.get('sklearn')} (installed {sklearn.__version__})")
    current = _current_lexicons()
    if (meta.get("lexicons") or {}) != current:
        diffs.append(f"lexicons {meta.get('lexicons')} (installed {current})")
    if diffs:
        warnings.warn(
            f"{path.name} was trained with " + "; ".join(diffs) + ". Run `hrdiscourse train` to retrain it.",
            HRDiscourseWarning,
            stacklevel=2,
        )
    return LabelModel(pipeline, meta)


@lru_cache(maxsize=1)
def _shipped_model() -> LabelModel | None:
    try:
        return load_model(MODEL_PATH)
    except ModelError as exc:
        warnings.warn(f"{exc} Labels come from the rule layer only.", HRDiscourseWarning, stacklevel=3)
        return None


def model_info() -> dict[str, str]:
    """Classifier provenance for a result's ``model`` field (strings only)."""
    info = {"classifier": f"label_model {MODEL_VERSION}", "classifier_strategy": STRATEGY}
    model = _shipped_model() if STRATEGY != "rules" else None
    if model is not None:
        info["classifier_training_sha256"] = str(model.meta.get("training_data_sha256", ""))[:16]
    else:
        info["classifier_strategy"] = "rules"
    return info


# --- combination ---------------------------------------------------------------------------


def _inadmissible(result: Mapping[str, Any]) -> set[str]:
    """Labels the spans rule out by definition (DOMAIN.md §3), whatever the weights say.

    ``none`` once there is a harm-reduction mention; ``extension`` without a domain
    extension span; ``coopted`` without a usable (not negated, not critical) co-opting
    signal linked to a mention within the window; ``copresent`` without any usable
    co-opting signal; ``opposed`` when a usable co-opting signal is framed *directly* as
    harm reduction and no mention is negated or hedged (the text adopts the frame; chosen
    by cross-validation on train: hybrid macro-F1 0.836 vs 0.837 without it, coopted
    precision 0.784 vs 0.778); ``aligned`` under the same condition (aligned means no
    co-opting signal tied to the mention; cross-validation on train unchanged, 0.872 /
    0.854 with and without it).
    """
    signals = {s.get("id"): s for s in result.get("signals") or []}

    def usable(s: Mapping[str, Any] | None) -> bool:
        return (
            bool(s)
            and (s.get("kind") or "coopting") == "coopting"
            and not s.get("negated")
            and not s.get("critical")
        )

    out = {"none"}
    if not any(s.get("kind") == "extension" and not s.get("negated") for s in signals.values()):
        out.add("extension")
    if not any(
        link.get("strength") in NEAR_STRENGTHS and usable(signals.get(link.get("signal")))
        for link in result.get("links") or []
    ):
        out.add("coopted")
    if not any(usable(s) for s in signals.values()):
        out.add("copresent")
    # a co-opting signal syntactically framed as harm reduction, in a text that neither
    # negates nor hedges the frame, is not an argument against harm reduction, nor
    # harm reduction without a co-opting signal tied to it
    mentions = result.get("hr_mentions") or []
    if not any(m.get("negated") or m.get("hedged") for m in mentions) and any(
        link.get("strength") == "direct" and usable(signals.get(link.get("signal")))
        for link in result.get("links") or []
    ):
        out.add("opposed")
        out.add("aligned")
    return out


def _combine(
    strategy: str,
    outcome: RuleOutcome,
    proba: Mapping[str, float] | None,
    result: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, float], str]:
    """Pick the label for one document; returns (label, scores, source)."""
    if strategy == "rules" or proba is None:
        return outcome.label, outcome.scores, "rules"
    if strategy == "hybrid" and outcome.label == "none":
        return "none", outcome.scores, "rules"
    scores = dict(proba)
    if strategy == "hybrid":
        # the rules found HR mentions, so "none" is ruled out; so are the labels the
        # spans rule out by definition (measured: see DECISION)
        for lab in _inadmissible(result) if result is not None else {"none"}:
            scores[lab] = 0.0
        total = sum(scores.values()) or 1.0
        scores = {k: v / total for k, v in scores.items()}
    label = max(LABELS, key=lambda lab: scores[lab])
    return label, {k: round(float(v), 4) for k, v in scores.items()}, "model"


def predict(
    results: Sequence[Mapping[str, Any]], *, model: LabelModel | None = None, strategy: str = STRATEGY
) -> list[str]:
    """Labels for many documents under a combination ``strategy`` (see :data:`STRATEGIES`)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy {strategy!r} is unknown; expected one of {', '.join(STRATEGIES)}.")
    outcomes = [rule_label(r) for r in results]
    probas: list[Mapping[str, float] | None] = (
        list(model.predict_proba(results))
        if model is not None and strategy != "rules"
        else [None] * len(results)
    )
    return [_combine(strategy, o, p, r)[0] for o, p, r in zip(outcomes, probas, results, strict=True)]


def _feature_evidence(result: Mapping[str, Any], name: str, weight: float) -> dict[str, Any]:
    """Attach a model feature to the sentence it comes from."""
    mentions = list(result.get("hr_mentions") or [])
    signals = list(result.get("signals") or [])
    span: Mapping[str, Any] | None = None
    if name.startswith("ngrams__"):
        gram = name.split("__", 1)[1]
        pool = mentions + signals
        span = next((s for s in pool if gram in str(s.get("sentence", "")).lower()), None)
    elif name.startswith("feats__cat_"):
        cat = name[len("feats__cat_") :].rsplit("_", 1)[0]
        span = next((s for s in signals if s.get("category") == cat), None)
    elif name.startswith("feats__ext"):
        span = next((s for s in signals if s.get("kind") == "extension"), None)
    elif name.startswith("feats__aligned"):
        span = next((s for s in signals if s.get("kind") == "aligned"), None)
    elif name.startswith("feats__coop"):
        span = next((s for s in signals if s.get("kind") == "coopting"), None)
    if span is None and mentions:
        span = mentions[0]
    ev = _span_evidence(span or {}, f"model feature {name.split('__', 1)[-1]}", round(weight, 4))
    return ev


def label_document(
    result: Mapping[str, Any], *, model: LabelModel | None = None, strategy: str = STRATEGY
) -> dict[str, Any]:
    """Label one analysed document with scores and evidence.

    Args:
        result: A ``documents.jsonl`` dict without the label fields.
        model: A trained model; the shipped ``hrdiscourse/models/label_model.skops``
            when None (rules only, with a warning, if it cannot be loaded).
        strategy: How rules and model combine; the measured default :data:`STRATEGY`.

    Returns:
        ``{"label", "label_scores", "evidence"}``. Evidence is never empty: for
        ``none`` it says ``no harm-reduction framing found``; otherwise it holds the
        rule that fired and, when the model decided, its top feature weights.
    """
    return label_documents([result], model=model, strategy=strategy)[0]


def _uses_model(outcome: RuleOutcome, strategy: str) -> bool:
    return strategy != "rules" and not (strategy == "hybrid" and outcome.label == "none")


def label_documents(
    results: Sequence[Mapping[str, Any]], *, model: LabelModel | None = None, strategy: str = STRATEGY
) -> list[dict[str, Any]]:
    """:func:`label_document` for many documents, the model run once over all of them.

    The same labels, scores and evidence as one call per document: the feature rows, the
    probabilities and the feature weights of a document do not depend on the others.
    """
    if strategy not in STRATEGIES:
        raise ConfigError(f"strategy {strategy!r} is unknown; expected one of {', '.join(STRATEGIES)}.")
    outcomes: list[RuleOutcome] = []
    feats: dict[int, dict[str, float]] = {}
    contexts: dict[int, str] = {}
    for i, r in enumerate(results):
        facts = _Facts(r)  # the link strengths and HR context, for the rules, features and rows
        outcomes.append(_rule_label(facts))
        if _uses_model(outcomes[-1], strategy):
            # right after the rules: featurize counts cues in the texts rule_label has just
            # counted them in, and _cue_counts still holds those counts
            feats[i] = _featurize(facts)
            contexts[i] = facts.context
    if model is None and feats:
        model = _shipped_model()
    rows: dict[int, tuple[Any, Mapping[str, float]]] = {}
    if model is not None and strategy != "rules":
        # one feature matrix for the probabilities and the evidence weights
        todo = [i for i, o in enumerate(outcomes) if _uses_model(o, strategy)]
        if todo:
            X = model._transform(
                [results[i] for i in todo],
                [outcomes[i] for i in todo],
                [feats[i] for i in todo],
                [contexts[i] for i in todo],
            ).tocsr()
            probas = model.predict_proba([results[i] for i in todo], X=X)
            data, indices, indptr = X.data, X.indices, X.indptr.tolist()
            for k, i in enumerate(todo):
                a, b = indptr[k], indptr[k + 1]
                rows[i] = ((data[a:b], indices[a:b]), probas[k])
    return [
        _decide(result, outcome, model, strategy, *rows.get(i, (None, None)))
        for i, (result, outcome) in enumerate(zip(results, outcomes, strict=True))
    ]


def _decide(
    result: Mapping[str, Any],
    outcome: RuleOutcome,
    model: LabelModel | None,
    strategy: str,
    row: tuple[Any, Any] | None,
    proba: Mapping[str, float] | None,
) -> dict[str, Any]:
    """The label, scores and evidence of one document from its rule outcome and model row
    (its ``data`` and ``indices`` in the batch's feature matrix)."""
    label, scores, source = _combine(strategy, outcome, proba, result)
    if label == "none":
        evidence = [
            {
                "sentence": NONE_REASON,
                "start": 0,
                "end": 0,
                "reason": f"rule none: {NONE_REASON}",
                "weight": 1.0,
            }
        ]
        if source == "model":
            evidence[0]["reason"] = f"model: {NONE_REASON} (rules saw {outcome.rule})"
        return {"label": label, "label_scores": scores, "evidence": evidence}
    evidence = list(outcome.evidence) if outcome.label == label else []
    if source == "model" and model is not None:
        if outcome.label != label:
            evidence.append(
                {
                    "sentence": outcome.evidence[0]["sentence"] if outcome.evidence else "",
                    "start": outcome.evidence[0]["start"] if outcome.evidence else 0,
                    "end": outcome.evidence[0]["end"] if outcome.evidence else 0,
                    "reason": f"model overrode rule {outcome.rule}",
                    "weight": round(scores[label], 4),
                }
            )
        top = model._top_features(label, *row) if row is not None else model.top_features(result, label)
        evidence += [_feature_evidence(result, n, w) for n, w in top]
    if not evidence:
        evidence = [
            _span_evidence((result.get("hr_mentions") or [{}])[0], f"label {label}", scores.get(label, 0.0))
        ]
    return {"label": label, "label_scores": scores, "evidence": evidence}


# --- evaluation ------------------------------------------------------------------------------


@dataclass
class SystemScores:
    """Scores of one system: per-label table, macro-F1 and confusion matrix."""

    name: str
    per_label: Any  # DataFrame: label → precision, recall, f1, support
    macro_f1: float
    confusion: Any  # DataFrame: gold (rows) × predicted (columns)
    predictions: list[str] = field(default_factory=list)


def score(name: str, gold: Sequence[str], pred: Sequence[str]) -> SystemScores:
    """Per-label P/R/F1, macro-F1 (over labels present in gold) and confusion matrix."""
    import pandas as pd
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    present = [lab for lab in LABELS if lab in set(gold)]
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(LABELS), zero_division=0)
    per_label = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(LABELS))
    per_label.index.name = "label"
    macro = float(f1_score(gold, pred, labels=present, average="macro", zero_division=0)) if present else 0.0
    cm = pd.DataFrame(
        confusion_matrix(gold, pred, labels=list(LABELS)), index=list(LABELS), columns=list(LABELS)
    )
    cm.index.name = "gold"
    return SystemScores(name, per_label, macro, cm, list(pred))


def evaluate(
    results: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    model: LabelModel | None = None,
    strategy: str = STRATEGY,
) -> dict[str, SystemScores]:
    """Score the rules, the model, the combination and the dictionary baseline.

    Args:
        results: Analysed held-out documents.
        labels: Their gold labels.
        model: Trained model (the shipped one when None).
        strategy: The combination scored as ``combined``.

    Returns:
        ``{"baseline", "rules", "model", "combined"}`` → :class:`SystemScores`
        (``model``/``combined`` are missing when no model can be loaded).
    """
    if model is None:
        model = _shipped_model()
    out = {
        "baseline": score("baseline", labels, [baseline_label(r) for r in results]),
        "rules": score("rules", labels, predict(results, strategy="rules")),
    }
    if model is not None:
        out["model"] = score("model", labels, predict(results, model=model, strategy="model"))
        out["combined"] = score(
            f"combined ({strategy})", labels, predict(results, model=model, strategy=strategy)
        )
    return out


def cross_validate(
    results: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    C: float = 1.0,
) -> Any:
    """Macro-F1 and coopted precision of every strategy under stratified k-fold CV.

    Use on the train split only; the test split is measured once with :func:`evaluate`.

    Returns:
        DataFrame indexed by strategy (plus ``baseline``) with ``macro_f1`` and
        ``coopted_precision`` over the pooled out-of-fold predictions.
    """
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(labels)
    n_splits = max(2, min(folds, min(counts.values())))
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    preds: dict[str, list[str]] = {s: [""] * len(labels) for s in STRATEGIES}
    idx = list(range(len(labels)))
    for tr, te in skf.split(idx, list(labels)):
        tr_res = [results[i] for i in tr]
        tr_lab = [labels[i] for i in tr]
        te_res = [results[i] for i in te]
        plain = train(tr_res, tr_lab, rule_features=False, C=C)
        with_rules = train(tr_res, tr_lab, rule_features=True, C=C)
        for strategy, m in (
            ("rules", None),
            ("model", plain),
            ("model_rulefeats", with_rules),
            ("hybrid", with_rules),
        ):
            for i, lab in zip(te, predict(te_res, model=m, strategy=strategy), strict=True):
                preds[strategy][i] = lab
    preds["baseline"] = [baseline_label(r) for r in results]
    rows = {}
    for name, pred in preds.items():
        s = score(name, labels, pred)
        rows[name] = {
            "macro_f1": round(s.macro_f1, 4),
            "coopted_precision": round(s.per_label.loc["coopted", "precision"], 4),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def iter_labels(docs: Iterable[GoldDocument]) -> list[str]:
    """The gold labels of ``docs`` in order."""
    return [d.label for d in docs]


# --- gold-corpus workflows (used by `hrdiscourse train` / `hrdiscourse evaluate`) -------------


def train_from_gold(
    folder: str | Path,
    nlp: Any,
    *,
    include_seed: bool | str | Path = True,
    cv: bool = True,
    folds: int = 5,
) -> tuple[LabelModel, Any]:
    """Train the shipped label model on the train split of the gold documents.

    Args:
        folder: ``corpora/gold/documents``.
        nlp: The detection pipeline (``hrdiscourse.load_pipeline``).
        include_seed: Add the seed report as a ``critical`` train document.
        cv: Also cross-validate every strategy on the train split and store the
            numbers in the sidecar (``cv_macro_f1``, ``cv_coopted_precision``).
        folds: Number of CV folds.

    Returns:
        The model and the CV table (None when ``cv`` is False).
    """
    docs = load_gold_documents(folder, split="train", include_seed=include_seed)
    results = analyse_documents(docs, nlp)
    labels = iter_labels(docs)
    table = cross_validate(results, labels, folds=folds) if cv else None
    extra: dict[str, Any] = {
        "strategy": STRATEGY,
        "training_documents": [d.id for d in docs],
        "spacy_pipeline": "{}_{}-{}".format(*(nlp.meta.get(k, "") for k in ("lang", "name", "version"))),
    }
    if table is not None:
        extra["cv_folds"] = folds
        extra["cv_macro_f1"] = {k: float(v) for k, v in table["macro_f1"].items()}
        extra["cv_coopted_precision"] = {k: float(v) for k, v in table["coopted_precision"].items()}
    model = train(results, labels, rule_features=STRATEGY != "model", extra_meta=extra)
    return model, table


def evaluate_gold(
    folder: str | Path,
    nlp: Any,
    *,
    split: str = "test",
    model: LabelModel | None = None,
    language: str = "en",
) -> dict[str, SystemScores]:
    """Score baseline, rules, model and combined on one split of the gold documents.

    ``language`` picks the gold documents of that language; ``nlp`` must be its pipeline.
    French documents are labelled by the rules in ``analyze`` (the model is English).
    """
    docs = load_gold_documents(folder, split=split, language=language)
    if not docs:
        raise ConfigError(f"{folder}: no {language!r} gold documents in split {split!r}.")
    return evaluate(analyse_documents(docs, nlp), iter_labels(docs), model=model)
