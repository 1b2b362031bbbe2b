"""Metadata normalisation shared by every reader.

:func:`build_meta` turns what a file says about a document (front matter, JSONL keys,
CSV columns, HTML/PDF/feed metadata) into the :data:`~hrdiscourse.types.META_KEYS`
dict of a :class:`~hrdiscourse.types.Record`: clean strings, ISO dates, a ``doc_id``
and a validated or cue-based ``doc_type``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import warnings
from collections.abc import Mapping
from typing import Any

from dateutil import parser as date_parser

from ..errors import HRDiscourseWarning
from ..types import DOC_TYPES, Record, Rejected
from .decode import clean_string, clean_text

#: Input keys read as metadata; anything else goes to ``meta["extra"]``.
COLUMNS: tuple[str, ...] = ("id", "text", "title", "author", "date", "outlet", "url", "doc_type", "language")
#: A few spellings tools commonly use for the same column.
ALIASES: dict[str, str] = {"doc_id": "id", "authors": "author", "lang": "language", "link": "url"}

_DOC_TYPE_ALIASES: dict[str, str] = {
    "funding": "funding_call",
    "call": "funding_call",
    "government_release": "government",
    "press_release": "government",
    "gov": "government",
    "journal": "academic",
    "article": "news",
}
_LANGUAGE_NAMES: dict[str, str] = {"english": "en", "anglais": "en", "french": "fr", "français": "fr"}


class _ParserInfo(date_parser.parserinfo):
    """English and French month and weekday names, so "3 mars 2021" parses too.

    French weekday abbreviations that collide with English months ("mar") are left out.
    """

    MONTHS = [
        ("Jan", "January", "janv", "janvier"),
        ("Feb", "February", "févr", "fevr", "février", "fevrier"),
        ("Mar", "March", "mars"),
        ("Apr", "April", "avr", "avril"),
        ("May", "mai"),
        ("Jun", "June", "juin"),
        ("Jul", "July", "juil", "juillet"),
        ("Aug", "August", "août", "aout"),
        ("Sep", "Sept", "September", "septembre"),
        ("Oct", "October", "octobre"),
        ("Nov", "November", "novembre"),
        ("Dec", "December", "déc", "décembre", "decembre"),
    ]
    WEEKDAYS = [
        ("Mon", "Monday", "lun", "lundi"),
        ("Tue", "Tuesday", "mardi"),
        ("Wed", "Wednesday", "mercredi"),
        ("Thu", "Thursday", "jeu", "jeudi"),
        ("Fri", "Friday", "ven", "vendredi"),
        ("Sat", "Saturday", "sam", "samedi"),
        ("Sun", "Sunday", "dim", "dimanche"),
    ]
    JUMP = [*date_parser.parserinfo.JUMP, "le", "du", "er"]


_PARSERINFO = _ParserInfo()
# Two far-apart defaults: a component dateutil filled in from the default differs
# between the two parses, which shows the source did not give it (no invented dates).
_DEFAULT_A = dt.datetime(1901, 1, 1)
_DEFAULT_B = dt.datetime(1902, 2, 2)


def warn(message: str) -> None:
    """Emit an :class:`~hrdiscourse.errors.HRDiscourseWarning`."""
    warnings.warn(message, HRDiscourseWarning, stacklevel=3)


def normalise_date(value: Any, *, where: str) -> str | None:
    """Normalise a date to ISO ``YYYY-MM-DD``.

    A date without a day or month becomes the reduced ISO form (``2021-03``,
    ``2021``): the missing parts are never invented. An unparseable value is kept
    as given and a warning names the file.

    Args:
        value: A string, :class:`datetime.date` or :class:`datetime.datetime`.
        where: The file (and location) for the warning.

    Returns:
        The ISO date, the raw string when unparseable, or None when empty.
    """
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    raw = to_string(value)
    if raw is None:
        return None
    text = raw.replace("1er ", "1 ")
    try:
        a = date_parser.parse(text, parserinfo=_PARSERINFO, default=_DEFAULT_A)
        b = date_parser.parse(text, parserinfo=_PARSERINFO, default=_DEFAULT_B)
    except (ValueError, OverflowError, TypeError):
        warn(f"{where}: date {raw!r} could not be parsed; kept as given. Use YYYY-MM-DD to fix it.")
        return raw
    if a.year != b.year:
        warn(f"{where}: date {raw!r} has no year; kept as given. Use YYYY-MM-DD to fix it.")
        return raw
    if a.month != b.month:
        return f"{a.year:04d}"
    if a.day != b.day:
        return f"{a.year:04d}-{a.month:02d}"
    return f"{a.year:04d}-{a.month:02d}-{a.day:02d}"


def to_string(value: Any) -> str | None:
    """Turn a metadata value into a clean one-line string.

    Lists of scalars (several authors) are joined with ``"; "``; mappings and nested
    lists are not metadata strings and give None.

    Args:
        value: A scalar, list or None.

    Returns:
        The cleaned string, or None.
    """
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        parts = [to_string(v) for v in value if not isinstance(v, list | tuple | Mapping)]
        joined = "; ".join(p for p in parts if p)
        return joined or None
    return clean_string(str(value))


def text_id(text: str) -> str:
    """Content id: the first 16 hex digits of the SHA-1 of the whitespace-normalised text."""
    normalised = " ".join(clean_text(text).split())
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:16]


_STRONG_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "funding_call",
        re.compile(
            r"\bcalls? for (?:proposals|applications|submissions|expressions? of interest)\b|\bapply by\b"
            r"|\bappel (?:à|a|de) (?:projets|propositions|candidatures)\b|\bapplication deadline\b",
            re.I,
        ),
    ),
    (
        "government",
        re.compile(
            r"\bnews release\b|\bpress release\b|\bgovernment of\b|\bcommuniqué de presse\b"
            r"|\bgouvernement du\b|/\s*CNW(?:\s+Telbec)?\s*/",
            re.I,
        ),
    ),
    # Wire-service dateline in capitals: "OTTAWA, March 3, 2021 /CNW/", "QUÉBEC, le 3 mars 2021 /".
    ("government", re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý .'-]+, (?:le )?[\w ,.]{3,20}\d{4} /", re.M)),
    (
        "academic",
        re.compile(r"\bdoi:\s*10\.\d{4,}|\bdoi\.org/10\.\d{4,}|^\s*abstract\b|^\s*résumé\s*$", re.I | re.M),
    ),
    ("ngo", re.compile(r"\bour (?:organi[sz]ation|members|coalition|network)\b|\bnotre organisme\b", re.I)),
)
_WEAK_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("funding_call", re.compile(r"\beligib(?:le|ility)\b|\bdeadline\b|\bdate limite\b|\badmissibilit", re.I)),
    ("government", re.compile(r"\bminist(?:er|ry|re|ère)\b", re.I)),
    ("academic", re.compile(r"\bjournal of\b|\bpeer[- ]reviewed\b|\bet al\.", re.I)),
    (
        "ngo",
        re.compile(
            r"\bstatement\b.{0,200}\b(?:non-?profit|charity|coalition|network|alliance|collective|association)\b"
            r"|\b(?:non-?profit|charity|coalition|network|alliance|collective|association)\b.{0,200}\bstatement\b",
            re.I | re.S,
        ),
    ),
)
_CUE_WINDOW = 20_000


def guess_doc_type(text: str, *, title: str | None = None, outlet: str | None = None) -> str:
    """Guess the document type from cues in the text.

    A strong cue decides, checked in this order: funding call ("call for proposals",
    "apply by"), government ("News release", "Government of", a wire dateline such as
    ``OTTAWA, March 3, 2021 /CNW/``), academic (a DOI, an "Abstract" heading), NGO
    ("our organization"). Otherwise two distinct weak cues of one type decide
    ("eligibility" and "deadline"); "Minister" or an NGO "statement" counts alone
    only when no outlet is known.
    Otherwise ``news`` when an outlet is known, else ``other``.

    Args:
        text: The document text (the first 20,000 characters are read).
        title: The title, read with the text.
        outlet: The outlet, if known.

    Returns:
        One of :data:`~hrdiscourse.types.DOC_TYPES`.
    """
    head = f"{title or ''}\n{text[:_CUE_WINDOW]}"
    for doc_type, pattern in _STRONG_CUES:
        if pattern.search(head):
            return doc_type
    for doc_type, pattern in _WEAK_CUES:
        found = {m.group(0).lower() for m in pattern.finditer(head)}
        if len(found) >= 2 or (found and doc_type in ("government", "ngo") and not outlet):
            return doc_type
    return "news" if outlet else "other"


def normalise_doc_type(value: Any, *, where: str) -> str | None:
    """Validate a ``doc_type`` given in metadata; None (with a warning) when unknown."""
    raw = to_string(value)
    if raw is None:
        return None
    key = re.sub(r"[\s-]+", "_", raw.lower())
    key = _DOC_TYPE_ALIASES.get(key, key)
    if key in DOC_TYPES:
        return key
    warn(
        f"{where}: doc_type {raw!r} is not one of {', '.join(DOC_TYPES)}; "
        "it was guessed from the text instead. Use one of those values to fix it."
    )
    return None


def normalise_language(value: Any, *, where: str) -> str | None:
    """An ISO 639-1 code from ``en``, ``en-CA``, ``fr_FR``, ``English``...; None when unknown."""
    raw = to_string(value)
    if raw is None:
        return None
    low = raw.lower()
    if low in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[low]
    code = re.split(r"[-_]", low)[0]
    if re.fullmatch(r"[a-z]{2}", code):
        return code
    warn(f"{where}: language {raw!r} is not an ISO 639-1 code (en, fr); it will be detected from the text.")
    return None


_EXTRA_NODES = 10_000


def _json_safe(value: Any, budget: list[int]) -> Any:
    # A budget, because YAML aliases can nest one list a billion times over.
    budget[0] -= 1
    if budget[0] < 0:
        raise OverflowError
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, budget) for v in value]
    return str(value)


def _extra_value(key: str, value: Any, where: str) -> Any:
    try:
        return _json_safe(value, [_EXTRA_NODES])
    except (OverflowError, RecursionError):
        warn(f"{where}: metadata field {key!r} is too large or too deeply nested; it was dropped.")
        return None


def build_meta(
    raw: Mapping[str, Any], *, text: str, source: str, where: str, extra_ok: bool = True
) -> dict[str, Any]:
    """Build a Record's metadata from the raw keys of an input.

    Args:
        raw: What the input says (keys of :data:`COLUMNS`, their :data:`ALIASES`, and
            any others, which are kept under ``extra``); ``text`` is ignored.
        text: The cleaned document text (for ``doc_id`` and ``doc_type`` cues).
        source: The Record's source: file path plus ``:line N`` / ``:item N``.
        where: File and location for warnings.
        extra_ok: Keep unknown keys under ``meta["extra"]``.

    Returns:
        A dict with every key of :data:`~hrdiscourse.types.META_KEYS`, plus ``extra``
        when the input had unknown keys.
    """
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).strip().lower()
        name = ALIASES.get(name, name)
        if name == "text":
            continue
        if name in COLUMNS and name not in known:
            known[name] = value
        elif extra_ok:
            extra[str(key)] = _extra_value(str(key), value, where)

    given_id = to_string(known.get("id"))
    title = to_string(known.get("title"))
    outlet = to_string(known.get("outlet"))
    doc_type = normalise_doc_type(known.get("doc_type"), where=where)
    meta: dict[str, Any] = {
        "doc_id": given_id or text_id(text),
        "source": source,
        "url": to_string(known.get("url")),
        "title": title,
        "author": to_string(known.get("author")),
        "date": normalise_date(known.get("date"), where=where),
        "outlet": outlet,
        "doc_type": doc_type or guess_doc_type(text, title=title, outlet=outlet),
        "language": normalise_language(known.get("language"), where=where),
    }
    if extra:
        meta["extra"] = extra
    return meta


def make_record(
    text: str, raw: Mapping[str, Any], *, file: str, location: str = "", what: str = "document"
) -> Record | Rejected:
    """Clean the text, build the metadata and return a Record, or Rejected when no text is left.

    Args:
        text: The extracted text, before cleaning.
        raw: Raw metadata for :func:`build_meta`.
        file: The file's source path.
        location: ``line N`` / ``item N`` inside the file, empty for a whole file.
        what: How the reason names the empty thing ("document", "field 'text'", ...).

    Returns:
        A :class:`Record` whose ``source`` is ``file`` plus ``:location``, or a
        :class:`Rejected` when the cleaned text is empty.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return Rejected(
            file, f"{what} has no text after removing whitespace and control characters", location
        )
    source = f"{file}:{location}" if location else file
    where = f"{file}: {location}" if location else file
    return Record(cleaned, build_meta(raw, text=cleaned, source=source, where=where))
