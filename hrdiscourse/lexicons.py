"""Versioned YAML lexicons with provenance, and their conversion to spaCy patterns.

A lexicon file has a ``meta`` block (name, version, language, source, labels), an
optional ``definitions`` block (YAML anchors shared by entries; ignored otherwise) and
``entries``. Each entry has an ``id``, a ``label`` from ``meta.labels``, the ``source``
section of the report it comes from, and a ``pattern``: either a phrase string (matched
on the lower-cased tokens) or a spaCy token pattern. Token patterns may use only
tokenizer-level attributes (ORTH, LOWER, ...) so the fast mode (tokenizer only) and the
full pipeline give the same matches.

Optional entry keys: ``requires_context`` / ``excludes_context`` (``{any: [words],
window: N}``: keep / drop a match when one of the words is within N tokens in the same
sentence), ``direction`` and ``scope`` (context cues), ``examples`` (texts the entry
must match; checked by the tests) and ``note``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import LexiconError

META_KEYS = frozenset({"name", "version", "language", "source", "labels"})
TOP_KEYS = frozenset({"meta", "entries", "definitions"})
ENTRY_KEYS = frozenset(
    {
        "id",
        "label",
        "source",
        "pattern",
        "requires_context",
        "excludes_context",
        "direction",
        "scope",
        "examples",
        "note",
    }
)
REQUIRED_ENTRY_KEYS = ("id", "label", "source", "pattern")
DIRECTIONS = frozenset({"forward", "backward", "bidirectional"})
#: Token attributes that the tokenizer alone sets (fast-mode parity).
TOKENIZER_ATTRS = frozenset(
    {
        "ORTH",
        "TEXT",
        "LOWER",
        "NORM",
        "SHAPE",
        "PREFIX",
        "SUFFIX",
        "LENGTH",
        "IS_ALPHA",
        "IS_ASCII",
        "IS_DIGIT",
        "IS_LOWER",
        "IS_UPPER",
        "IS_TITLE",
        "IS_PUNCT",
        "IS_SPACE",
        "IS_STOP",
        "IS_BRACKET",
        "IS_QUOTE",
        "IS_LEFT_PUNCT",
        "IS_RIGHT_PUNCT",
        "IS_CURRENCY",
        "LIKE_NUM",
        "LIKE_URL",
        "LIKE_EMAIL",
        "OP",
    }
)
STRING_ATTRS = frozenset({"ORTH", "TEXT", "LOWER", "NORM", "SHAPE", "PREFIX", "SUFFIX"})
VALUE_OPERATORS = frozenset({"IN", "NOT_IN", "REGEX", "FUZZY", "==", ">=", "<=", ">", "<", "!="})
OPS = frozenset({"?", "*", "+", "!", "{1}"})
CONTEXT_KEYS = frozenset({"any", "window"})

#: Lexicon names that feed each span group (the rest are context cues).
MENTION_LEXICONS: tuple[str, ...] = ("harm_reduction",)
SIGNAL_LEXICONS: tuple[str, ...] = ("coopting_signals", "domain_extension", "aligned_principles")
CUE_LEXICONS: tuple[str, ...] = ("context_cues",)


@dataclass
class LexiconEntry:
    """One lexicon entry: a pattern with its label and provenance."""

    id: str
    label: str
    source: str
    pattern: str | list[dict[str, Any]]
    requires_context: dict[str, Any] | None = None
    excludes_context: dict[str, Any] | None = None
    direction: str | None = None
    scope: int | str | None = None
    examples: list[str] = field(default_factory=list)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as a plain dict (keys with ``None`` values left out)."""
        data = {
            "id": self.id,
            "label": self.label,
            "source": self.source,
            "pattern": self.pattern,
            "requires_context": self.requires_context,
            "excludes_context": self.excludes_context,
            "direction": self.direction,
            "scope": self.scope,
            "examples": list(self.examples) or None,
            "note": self.note,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class Lexicon:
    """A lexicon file: its meta block and its entries.

    Attributes:
        name: Lexicon name (``meta.name``), e.g. ``coopting_signals``.
        version: Semantic version string.
        language: ISO 639-1 code.
        source: The publication the entries point back to.
        labels: The labels the entries may use.
        entries: The entries, in file order.
        path: The file it was read from (``None`` when built in memory).
    """

    name: str
    version: str
    language: str
    source: str
    labels: list[str]
    entries: list[LexiconEntry]
    path: Path | None = None
    _raw: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def validate(self) -> None:
        """Check the lexicon and raise one :class:`LexiconError` listing every problem.

        Raises:
            LexiconError: unknown keys, missing fields, duplicate ids, labels outside
                ``meta.labels``, malformed patterns or context options.
        """
        problems = validate_raw(self._raw if self._raw is not None else self._as_raw())
        if problems:
            raise LexiconError(_format_problems(self.path or self.name, problems))

    def to_patterns(self) -> list[dict[str, Any]]:
        """Return ``span_ruler`` patterns, each with ``"id"`` = the entry id."""
        return [{"label": e.label, "pattern": e.pattern, "id": e.id} for e in self.entries]

    def constraints(self) -> dict[str, dict[str, Any]]:
        """Return ``{entry_id: {"requires": {...}, "excludes": {...}}}`` for context-checked entries."""
        out: dict[str, dict[str, Any]] = {}
        for e in self.entries:
            c: dict[str, Any] = {}
            if e.requires_context:
                c["requires"] = _norm_context(e.requires_context)
            if e.excludes_context:
                c["excludes"] = _norm_context(e.excludes_context)
            if c:
                out[e.id] = c
        return out

    def _as_raw(self) -> dict[str, Any]:
        return {
            "meta": {
                "name": self.name,
                "version": self.version,
                "language": self.language,
                "source": self.source,
                "labels": list(self.labels),
            },
            "entries": [e.to_dict() for e in self.entries],
        }


def anchor_variants(pattern: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rewrite a token pattern so its first token is a plain value, not a set.

    spaCy's Matcher tests the first token of every pattern at every token of a document;
    a plain ``{"LOWER": "exit"}`` is a hash comparison in C, an ``{"IN": [...]}`` set is a
    Python call. Splitting the first token's set into one pattern per value (and an
    optional first token into the variants with and without it) matches exactly the
    same spans at a fraction of the cost: on the seed report the signal ruler went from
    about 3 s to a few hundredths of a second.
    """
    if not pattern:
        return []
    first, rest = pattern[0], pattern[1:]
    op = first.get("OP")
    variants: list[list[dict[str, Any]]] = []
    if op == "?":
        variants += anchor_variants(rest)
        first = {k: v for k, v in first.items() if k != "OP"}
    elif op is not None and op != "1":
        return [pattern]
    sets = [(k, v) for k, v in first.items() if isinstance(v, dict)]
    if len(sets) == 1 and set(sets[0][1]) == {"IN"}:
        attr, value = sets[0]
        others = {k: v for k, v in first.items() if k != attr}
        return variants + [[{**others, attr: item}, *rest] for item in value["IN"]]
    return variants + [[first, *rest]]


def _norm_context(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "any": sorted({str(w).lower() for w in spec.get("any", [])}),
        "window": int(spec.get("window", 8)),
    }


def _format_problems(where: Any, problems: list[str]) -> str:
    lines = [f"{where}: {len(problems)} problem(s) in the lexicon:"]
    lines += [f"  - {p}" for p in problems]
    lines.append(
        "Fix each entry as listed; allowed entry keys are "
        + ", ".join(sorted(ENTRY_KEYS))
        + " (see STYLE.md, 'Lexicons are data with provenance')."
    )
    return "\n".join(lines)


def _check_token(entry_id: str, i: int, token: Any) -> list[str]:
    where = f"entry {entry_id!r}: pattern token {i}"
    if not isinstance(token, dict) or not token:
        return [f"{where} must be a non-empty mapping such as {{LOWER: exit}}, got {token!r}"]
    problems = []
    for key, value in token.items():
        if not isinstance(key, str):
            problems.append(f"{where}: attribute {key!r} must be a string")
            continue
        if key.upper() not in TOKENIZER_ATTRS:
            problems.append(
                f"{where}: attribute {key!r} is not allowed; use ORTH/LOWER with explicit "
                "inflection lists (no LEMMA/POS/TAG/DEP/MORPH/ENT_TYPE) so fast and full modes agree"
            )
            continue
        if key.upper() == "OP":
            if value not in OPS:
                problems.append(f"{where}: OP {value!r} is not one of {sorted(OPS)}")
            continue
        if isinstance(value, dict):
            for op, arg in value.items():
                if op not in VALUE_OPERATORS:
                    problems.append(f"{where}: operator {op!r} is not one of {sorted(VALUE_OPERATORS)}")
                elif op in ("IN", "NOT_IN") and (
                    not isinstance(arg, list) or not arg or not all(isinstance(a, str) for a in arg)
                ):
                    problems.append(f"{where}: {op} needs a non-empty list of strings, got {arg!r}")
                elif op in ("IN", "NOT_IN") and key.upper() == "LOWER":
                    upper = [a for a in arg if a != a.lower()]
                    if upper:
                        problems.append(f"{where}: LOWER values must be lower-case, got {upper}")
        elif key.upper() in STRING_ATTRS and not isinstance(value, str):
            # YAML 1.1 reads bare no/on/off/yes as booleans: quote them ("no").
            problems.append(
                f'{where}: value of {key!r} must be a string (quote YAML words like "no"), got {value!r}'
            )
        elif key.upper() == "LOWER" and value != value.lower():
            problems.append(f"{where}: LOWER value {value!r} must be lower-case")
        elif key.upper().startswith(("IS_", "LIKE_")) and not isinstance(value, bool):
            problems.append(f"{where}: value of {key!r} must be true or false, got {value!r}")
        elif key.upper() == "LENGTH" and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{where}: LENGTH must be an integer, got {value!r}")
    return problems


def _check_pattern(entry_id: str, pattern: Any) -> list[str]:
    if isinstance(pattern, str):
        return [] if pattern.strip() else [f"entry {entry_id!r}: phrase pattern is empty"]
    if not isinstance(pattern, list) or not pattern:
        return [f"entry {entry_id!r}: pattern must be a phrase string or a non-empty list of token mappings"]
    problems: list[str] = []
    for i, token in enumerate(pattern):
        problems += _check_token(entry_id, i, token)
    if not problems and all(isinstance(t, dict) and t.get("OP") in ("?", "*") for t in pattern):
        problems.append(f"entry {entry_id!r}: every token is optional, so the pattern can match nothing")
    return problems


def _check_context(entry_id: str, key: str, spec: Any) -> list[str]:
    where = f"entry {entry_id!r}: {key}"
    if not isinstance(spec, dict):
        return [f"{where} must be a mapping {{any: [words], window: N}}, got {spec!r}"]
    problems = []
    unknown = set(spec) - CONTEXT_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)}; expected 'any' and 'window'")
    words = spec.get("any")
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        problems.append(f"{where}: 'any' must be a non-empty list of words")
    window = spec.get("window", 8)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        problems.append(f"{where}: 'window' must be a positive integer (tokens), got {window!r}")
    return problems


def validate_raw(raw: Any) -> list[str]:
    """Return every problem found in a parsed lexicon file (empty list when valid).

    Args:
        raw: The parsed YAML document.

    Returns:
        Human-readable problem descriptions naming the entry id (or index).
    """
    if not isinstance(raw, dict):
        return ["the file must be a mapping with 'meta' and 'entries'"]
    problems: list[str] = []
    unknown_top = set(raw) - TOP_KEYS
    if unknown_top:
        problems.append(
            f"unknown top-level key(s) {sorted(map(str, unknown_top))}; expected {sorted(TOP_KEYS)}"
        )
    meta = raw.get("meta")
    labels: set[str] = set()
    if not isinstance(meta, dict):
        problems.append("'meta' is missing or not a mapping (name, version, language, source, labels)")
    else:
        unknown_meta = set(meta) - META_KEYS
        if unknown_meta:
            problems.append(
                f"meta: unknown key(s) {sorted(map(str, unknown_meta))}; expected {sorted(META_KEYS)}"
            )
        for key in sorted(META_KEYS):
            if key not in meta:
                problems.append(f"meta: '{key}' is missing")
        lab = meta.get("labels")
        if lab is not None and (not isinstance(lab, list) or not all(isinstance(x, str) for x in lab)):
            problems.append("meta: 'labels' must be a list of upper-case strings")
        elif lab:
            labels = set(lab)
            lower = [x for x in lab if x != x.upper()]
            if lower:
                problems.append(f"meta: labels must be upper-case, got {lower}")
        version = str(meta.get("version", ""))
        if version and len(version.split(".")) != 3:
            problems.append(f"meta: version {version!r} must be MAJOR.MINOR.PATCH")
    entries = raw.get("entries")
    if not isinstance(entries, list) or not entries:
        problems.append("'entries' is missing or empty")
        return problems
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"entry #{index}: must be a mapping, got {entry!r}")
            continue
        eid = entry.get("id")
        name = str(eid) if eid is not None else f"#{index}"
        unknown = set(entry) - ENTRY_KEYS
        if unknown:
            problems.append(f"entry {name!r}: unknown key(s) {sorted(map(str, unknown))}")
        for key in REQUIRED_ENTRY_KEYS:
            if key not in entry or entry[key] in (None, ""):
                problems.append(f"entry {name!r}: '{key}' is missing")
        if eid is not None:
            if name in seen:
                problems.append(f"entry {name!r}: duplicate id (also entry #{seen[name]})")
            else:
                seen[name] = index
        label = entry.get("label")
        if label is not None and labels and label not in labels:
            problems.append(f"entry {name!r}: label {label!r} is not in meta.labels {sorted(labels)}")
        if "pattern" in entry:
            problems += _check_pattern(name, entry["pattern"])
        for key in ("requires_context", "excludes_context"):
            if key in entry:
                problems += _check_context(name, key, entry[key])
        if "direction" in entry and entry["direction"] not in DIRECTIONS:
            problems.append(
                f"entry {name!r}: direction {entry['direction']!r} is not one of {sorted(DIRECTIONS)}"
            )
        if "scope" in entry:
            scope = entry["scope"]
            if not (
                scope == "sentence" or (isinstance(scope, int) and not isinstance(scope, bool) and scope >= 0)
            ):
                problems.append(f"entry {name!r}: scope must be a number of tokens >= 0 or 'sentence'")
        if "examples" in entry and (
            not isinstance(entry["examples"], list) or not all(isinstance(x, str) for x in entry["examples"])
        ):
            problems.append(f"entry {name!r}: examples must be a list of strings")
    return problems


def lexicon_dir() -> Path:
    """Return the lexicon directory: the checkout's ``lexicons/`` when present, else package data.

    Raises:
        LexiconError: when neither place exists.
    """
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "lexicons", here / "_lexicons"]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise LexiconError(
        f"no lexicon directory found (looked in {', '.join(str(c) for c in candidates)}); "
        "expected the lexicons/*.yaml files; reinstall hrdiscourse or run from a checkout."
    )


def _resolve(path_or_name: str | Path) -> Path:
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise LexiconError(
                f"{path}: lexicon file not found; give an existing .yaml path or a lexicon name."
            )
        return path
    found = [
        p
        for p in sorted(lexicon_dir().glob(f"{path_or_name}*.yaml"))
        if p.stem.split(".")[0] == str(path_or_name)
    ]
    if not found:
        found = [p for p in sorted(lexicon_dir().glob("*.yaml")) if p.stem == str(path_or_name)]
    if not found:
        names = sorted(p.stem for p in lexicon_dir().glob("*.yaml"))
        raise LexiconError(
            f"lexicon {str(path_or_name)!r} not found in {lexicon_dir()}; known lexicons: {names}."
        )
    return found[0]


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=256)
def _parse_yaml(path: str, mtime_ns: int, size: int) -> Any:
    # Keyed by mtime and size: an edited lexicon is read again, an unchanged one is not
    # (a run loads the lexicons several times: pipeline, classifier, manifest).
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def _load_yaml(path: Path) -> Any:
    stat = path.stat()
    return copy.deepcopy(_parse_yaml(str(path), stat.st_mtime_ns, stat.st_size))


def read_lexicon(path_or_name: str | Path, *, validate: bool = True) -> Lexicon:
    """Read a lexicon from a YAML path or by name from :func:`lexicon_dir`.

    Args:
        path_or_name: A ``.yaml`` path, or a lexicon name such as ``"coopting_signals"``.
        validate: Check the file and raise on any problem (default).

    Returns:
        The parsed :class:`Lexicon`.

    Raises:
        LexiconError: the file is missing, is not YAML, or fails validation.
    """
    path = _resolve(path_or_name)
    try:
        raw = _load_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise LexiconError(f"{path}: {line}not valid YAML ({exc}); fix the syntax of the file.") from exc
    if validate:
        problems = validate_raw(raw)
        if problems:
            raise LexiconError(_format_problems(path, problems))
    meta = raw.get("meta") or {}
    entries = []
    for entry in raw.get("entries") or []:
        entries.append(
            LexiconEntry(
                id=str(entry.get("id")),
                label=str(entry.get("label")),
                source=str(entry.get("source", "")),
                pattern=entry.get("pattern"),
                requires_context=entry.get("requires_context"),
                excludes_context=entry.get("excludes_context"),
                direction=entry.get("direction"),
                scope=entry.get("scope"),
                examples=list(entry.get("examples") or []),
                note=entry.get("note"),
            )
        )
    return Lexicon(
        name=str(meta.get("name", path.stem)),
        version=str(meta.get("version", "0.0.0")),
        language=str(meta.get("language", "")),
        source=str(meta.get("source", "")),
        labels=list(meta.get("labels") or []),
        entries=entries,
        path=path,
        _raw=raw,
    )


def _is_pattern_lexicon(path: Path) -> bool:
    try:
        raw = _load_yaml(path)
    except yaml.YAMLError:
        return True  # let read_lexicon report the syntax error
    return isinstance(raw, dict) and "entries" in raw


def load_lexicons(language: str = "en", *, directory: str | Path | None = None) -> dict[str, Lexicon]:
    """Read every lexicon of a language.

    Args:
        language: ISO 639-1 code matched against ``meta.language``.
        directory: Where to look (default :func:`lexicon_dir`).

    Returns:
        ``{name: Lexicon}`` in file-name order.

    Raises:
        LexiconError: a file is invalid, or no lexicon exists for the language.
    """
    folder = Path(directory) if directory is not None else lexicon_dir()
    out: dict[str, Lexicon] = {}
    known = set(MENTION_LEXICONS) | set(SIGNAL_LEXICONS) | set(CUE_LEXICONS)
    # Lexicons of other languages live in sub-folders (lexicons/fr/); meta.language decides.
    for path in [*sorted(folder.glob("*.yaml")), *sorted(folder.glob("*/*.yaml"))]:
        if path.stem not in known and not _is_pattern_lexicon(path):
            # Other data files live in lexicons/ too (the audit rubric has `criteria`).
            continue
        lex = read_lexicon(path)
        if lex.language == language:
            if lex.name in out:
                raise LexiconError(
                    f"{path}: lexicon name {lex.name!r} is also used by {out[lex.name].path}; "
                    "names must be unique."
                )
            out[lex.name] = lex
    if not out:
        raise LexiconError(
            f"{folder}: no lexicon with meta.language {language!r}; add lexicons/<name>.yaml files "
            "for that language or choose another language."
        )
    return out


def lexicon_versions(lexicons: Iterable[Lexicon]) -> dict[str, str]:
    """Return ``{name: version}`` for a report's ``lexicons`` field."""
    return {lex.name: lex.version for lex in lexicons}
