"""Export a run to the formats researchers load elsewhere.

| format | writes | for |
|---|---|---|
| ``csv`` | ``OUT`` (documents) and ``<stem>.spans.csv`` (mentions and signals) | spreadsheets, R |
| ``parquet`` | ``OUT`` and ``<stem>.spans.parquet`` | pandas, DuckDB, Arrow |
| ``bibtex`` | one ``@article`` (news) or ``@misc`` entry per document | LaTeX, Zotero, JabRef |
| ``csl-json`` | one CSL item per document | Zotero, Pandoc citeproc |
| ``qdpx`` | a REFI-QDA project (``project.qde`` + ``Sources/``) | ATLAS.ti, MAXQDA, NVivo, QualCoder |

In every format the tool's label and the endnote annotation travel with the document
(BibTeX/CSL ``note`` and ``keywords``, a QDA code on the whole text), so a researcher can
tell the tool's reading from their own.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .api import HR_CATEGORY, Corpus
from .errors import ConfigError
from .types import LABELS

__all__ = [
    "FORMATS",
    "QDA_NAMESPACE",
    "export",
    "split_authors",
    "split_name",
    "to_bibtex",
    "to_csl_json",
    "to_qdpx",
]

FORMATS: tuple[str, ...] = ("csv", "parquet", "bibtex", "csl-json", "qdpx")
QDA_NAMESPACE = "urn:QDA-XML:project:1.0"
# Fixed namespace so that the GUIDs of a document and its spans are the same on every export.
_GUID_NS = uuid.UUID("5c1f0d6e-8a53-4c44-9f0e-6f2b8d7e1a90")

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_PARTICLES = frozenset(
    {"de", "da", "del", "della", "der", "di", "du", "la", "le", "van", "von", "den", "dos", "st."}
)
_ORG_WORDS = frozenset(
    {
        "of", "the", "for", "and", "&", "news", "network", "government", "ministry", "department",
        "agency", "society", "association", "council", "office", "press", "staff", "canada", "canadian",
        "service", "services", "inc", "inc.", "ltd", "ltd.", "centre", "center", "foundation", "city",
        "province", "police", "board", "committee", "coalition", "alliance", "project", "editorial",
        "wire", "times", "post", "herald", "radio", "institute", "university",
    }
)  # fmt: skip
_NAME_TOKEN = re.compile(r"^[A-ZÀ-ÖØ-Þ][\w'’.\-]*$")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_LABEL_COLOURS: dict[str, str] = {
    "none": "#9e9e9e",
    "aligned": "#1b9e77",
    "coopted": "#d95f02",
    "copresent": "#e6ab02",
    "critical": "#7570b3",
    "extension": "#4575b4",
    "opposed": "#b2182b",
}
_LABEL_MEANING: dict[str, str] = {
    "none": "no harm-reduction framing",
    "aligned": "harm-reduction framing, no approving co-opting signal linked to it",
    "coopted": "harm-reduction framing linked to co-opting signals in an approving or neutral frame",
    "copresent": "harm-reduction framing and co-opting signals only far apart in the document",
    "critical": "names and rejects the co-optation of harm reduction",
    "extension": "harm-reduction framing applied outside criminalization and marginalization",
    "opposed": "argues against harm reduction itself",
}
_REPORT_TYPES = frozenset({"government", "funding_call", "ngo"})


# --- names and dates ----------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str] | None:
    """``(family, given)`` for a personal name, ``None`` for an organisation.

    A personal name is two to four capitalised words (lower-case particles such as
    ``van`` or ``de`` allowed, and kept with the family name) without words that
    organisations use (``of``, ``News``, ``Government``, ...).
    """
    tokens = name.split()
    if not 2 <= len(tokens) <= 4:
        return None
    if any(t.lower() in _ORG_WORDS for t in tokens):
        return None
    if not _NAME_TOKEN.match(tokens[0]) or not _NAME_TOKEN.match(tokens[-1]):
        return None
    if not all(_NAME_TOKEN.match(t) or t.lower() in _PARTICLES for t in tokens):
        return None
    cut = len(tokens) - 1
    while cut > 1 and tokens[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(tokens[cut:]), " ".join(tokens[:cut])


def split_authors(value: Any) -> list[str]:
    """The authors of a document: a list as given, or a string split at ``;``, and at
    ``,``/``&``/``and`` only when every part is then a personal name (so that
    "Butterfly Asian and Migrant Sex Worker Support Network" stays whole)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [" ".join(str(v).split()) for v in value if str(v).strip()]
    authors: list[str] = []
    for part in str(value).split(";"):
        part = " ".join(part.split())
        if not part or part.lower() in ("none", "null", "nan"):
            continue
        pieces = [p.strip() for p in re.split(r"\s*(?:,|&|\band\b)\s*", part) if p.strip()]
        if len(pieces) > 1 and all(split_name(p) for p in pieces):
            authors.extend(pieces)
        else:
            authors.append(part)
    return authors


def _date_parts(date: Any) -> list[int] | None:
    match = _ISO.match(str(date or ""))
    if not match:
        return None
    return [int(g) for g in match.groups() if g is not None]


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return " ".join(str(value).split())


def _note(result: Mapping[str, Any]) -> str:
    label = result.get("label") or "none"
    annotation = _text(result.get("annotation"))
    tag = f"hrdiscourse label: {label}"
    return f"{annotation} ({tag})" if annotation else tag


# --- BibTeX -------------------------------------------------------------------------------

_BIB_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIB_SPECIAL = re.compile(r"[\\{}&%$#_~^]")


def _bib_escape(text: str) -> str:
    return _BIB_SPECIAL.sub(lambda m: _BIB_ESCAPES[m.group(0)], text)


def _ascii_word(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _bib_key(result: Mapping[str, Any], taken: set[str]) -> str:
    authors = split_authors(result.get("author"))
    who = ""
    if authors:
        parsed = split_name(authors[0])
        who = _ascii_word(parsed[0] if parsed else authors[0].split()[0])
    if not who:
        who = _ascii_word(str(result.get("outlet") or "").split()[0] if result.get("outlet") else "")
    parts = _date_parts(result.get("date"))
    year = str(parts[0]) if parts else ""
    words = [_ascii_word(w) for w in str(result.get("title") or "").split()]
    first = next((w for w in words if len(w) > 3), next((w for w in words if w), ""))
    base = f"{who}{year}{first}" or _ascii_word(str(result.get("doc_id") or "")) or "doc"
    key, n = base, 0
    while key in taken:
        n += 1
        key = f"{base}{_suffix(n)}"
    taken.add(key)
    return key


def _suffix(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(97 + rem) + out
    return out


def _bib_author(name: str) -> str:
    parsed = split_name(name)
    if parsed:
        family, given = parsed
        return f"{_bib_escape(family)}, {_bib_escape(given)}"
    return "{" + _bib_escape(name) + "}"  # an organisation: braces keep it one "last name"


def to_bibtex(results: Any) -> str:
    """BibTeX entries for the documents: ``@article`` for news with an outlet (``journal``),
    ``@misc`` otherwise (``howpublished``); ``note`` holds the annotation and the label,
    ``keywords`` the label as a tag.

    Args:
        results: A :class:`~hrdiscourse.api.Corpus` or result dicts.
    """
    from .reports.citations import safe_url

    taken: set[str] = set()
    entries = []
    for r in results:
        outlet = _text(r.get("outlet"))
        is_article = bool(outlet) and (r.get("doc_type") or "news") not in _REPORT_TYPES
        fields: list[tuple[str, str]] = []
        title = _text(r.get("title"))
        if title:
            fields.append(("title", _bib_escape(title)))
        authors = split_authors(r.get("author"))
        if authors:
            fields.append(("author", " and ".join(_bib_author(a) for a in authors)))
        parts = _date_parts(r.get("date"))
        if parts:
            fields.append(("date", "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))))
            fields.append(("year", str(parts[0])))
        if outlet:
            fields.append(("journal" if is_article else "howpublished", _bib_escape(outlet)))
        url = safe_url(r.get("url"))
        if url:
            fields.append(("url", url.replace("{", "%7B").replace("}", "%7D")))
        fields.append(("note", _bib_escape(_note(r))))
        fields.append(("keywords", f"hrdiscourse, {_bib_escape(str(r.get('label') or 'none'))}"))
        if r.get("language"):
            fields.append(("langid", _bib_escape(str(r["language"]))))
        key = _bib_key(r, taken)
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{'article' if is_article else 'misc'}{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


# --- CSL-JSON -----------------------------------------------------------------------------


def _csl_type(doc_type: Any) -> str:
    if doc_type in _REPORT_TYPES:
        return "report"
    if doc_type == "academic":
        return "article-journal"
    return "article-newspaper"


def to_csl_json(results: Any) -> list[dict[str, Any]]:
    """CSL-JSON items (``article-newspaper`` for news, ``report`` for government, NGO and
    funding documents), with the annotation and label in ``note`` and ``keyword``.

    Args:
        results: A :class:`~hrdiscourse.api.Corpus` or result dicts.
    """
    from .reports.citations import safe_url

    items = []
    for r in results:
        item: dict[str, Any] = {"id": str(r.get("doc_id")), "type": _csl_type(r.get("doc_type"))}
        title = _text(r.get("title"))
        if title:
            item["title"] = title
        authors = []
        for name in split_authors(r.get("author")):
            parsed = split_name(name)
            authors.append({"family": parsed[0], "given": parsed[1]} if parsed else {"literal": name})
        if authors:
            item["author"] = authors
        parts = _date_parts(r.get("date"))
        if parts:
            item["issued"] = {"date-parts": [parts]}
        elif _text(r.get("date")):
            item["issued"] = {"raw": _text(r.get("date"))}
        outlet = _text(r.get("outlet"))
        if outlet:
            item["container-title"] = outlet
            if item["type"] == "report":
                item["publisher"] = outlet
        url = safe_url(r.get("url"))
        if url:
            item["URL"] = url
        if r.get("language"):
            item["language"] = str(r["language"])
        item["note"] = _note(r)
        item["keyword"] = f"hrdiscourse, {r.get('label') or 'none'}"
        items.append(item)
    return items


# --- REFI-QDA -----------------------------------------------------------------------------


def _guid(*parts: Any) -> str:
    return str(uuid.uuid5(_GUID_NS, "\x1f".join(str(p) for p in parts)))


def _xml_text(value: Any) -> str:
    return _XML_BAD.sub("", str(value))


def _q(tag: str) -> str:
    return f"{{{QDA_NAMESPACE}}}{tag}"


def _flags(span: Mapping[str, Any]) -> str:
    on = [flag for flag in ("negated", "hedged", "quoted", "critical") if span.get(flag)]
    speaker = f"speaker: {span['speaker']}" if span.get("speaker") else ""
    entry = f"lexicon entry {span['entry_id']}" if span.get("entry_id") else ""
    return "; ".join(x for x in (", ".join(on), speaker, entry) if x)


def to_qdpx(corpus: Corpus, *, name: str = "hrdiscourse") -> bytes:
    """A REFI-QDA project (``.qdpx``): ``project.qde`` and one ``Sources/<guid>.txt`` per document.

    The codebook has one codable code per document label (``label: coopted``, ...), one
    for ``harm_reduction`` and one per signal category found. Each document is a
    ``TextSource`` whose text is the analysed text; every mention and signal is a
    ``PlainTextSelection`` (character offsets into that text) coded with its category,
    and one selection over the whole text carries the document's label. Context flags,
    speaker and lexicon entry go in the selection's ``Description``; metadata becomes
    text variables (label, outlet, date, doc_type, author, url). GUIDs are derived from
    the doc ids, so exporting the same run twice gives the same project.

    Args:
        corpus: The analysed corpus.
        name: The project name.

    Returns:
        The zip archive as bytes.
    """
    from .reports.document import category_colour

    ET.register_namespace("", QDA_NAMESPACE)
    created = str(corpus.manifest.get("started") or datetime.now(UTC).isoformat(timespec="seconds"))
    user = _guid("user", "hrdiscourse")
    project = ET.Element(
        _q("Project"),
        {"name": name, "origin": _origin(), "creatingUserGUID": user, "creationDateTime": created},
    )
    users = ET.SubElement(project, _q("Users"))
    ET.SubElement(users, _q("User"), {"guid": user, "name": "hrdiscourse", "id": "hrdiscourse"})

    codes: dict[str, str] = {}
    codebook = ET.SubElement(ET.SubElement(project, _q("CodeBook")), _q("Codes"))

    def add_code(key: str, code_name: str, colour: str, description: str) -> None:
        codes[key] = _guid("code", key)
        code = ET.SubElement(
            codebook,
            _q("Code"),
            {"guid": codes[key], "name": code_name, "isCodable": "true", "color": colour},
        )
        ET.SubElement(code, _q("Description")).text = description

    for label in LABELS:
        add_code(f"label:{label}", f"label: {label}", _LABEL_COLOURS[label], _LABEL_MEANING[label])
    add_code(HR_CATEGORY, HR_CATEGORY, category_colour(HR_CATEGORY), "harm-reduction framing (a mention)")
    signals = corpus.signals
    for kind, category in sorted(set(zip(signals["kind"], signals["category"], strict=True))):
        if category not in codes:
            add_code(category, category, category_colour(category), f"{kind} signal category")

    variables: dict[str, str] = {}
    var_names = ("label", "outlet", "date", "doc_type", "author", "url")
    var_parent = ET.SubElement(project, _q("Variables"))
    for var in var_names:
        variables[var] = _guid("variable", var)
        ET.SubElement(
            var_parent, _q("Variable"), {"guid": variables[var], "name": var, "typeOfVariable": "Text"}
        )

    sources_el = ET.SubElement(project, _q("Sources"))
    files: dict[str, str] = {}
    for r in corpus:
        doc_id = str(r.get("doc_id"))
        text = str(r.get("text") or "")
        source_guid = _guid("source", doc_id)
        files[f"Sources/{source_guid}.txt"] = text
        source = ET.SubElement(
            sources_el,
            _q("TextSource"),
            {
                "guid": source_guid,
                "name": _xml_text(_text(r.get("title")) or doc_id),
                "plainTextPath": f"internal://{source_guid}.txt",
                "creatingUser": user,
                "creationDateTime": created,
            },
        )
        description = " ".join(x for x in (_text(r.get("citation")), f"[{doc_id}]", _note(r)) if x)
        ET.SubElement(source, _q("Description")).text = _xml_text(description)

        label = str(r.get("label") or "none")
        if label not in LABELS:
            raise ConfigError(
                f"document {doc_id!r}: label {label!r} is not one of {', '.join(LABELS)}; "
                "rerun 'hrdiscourse analyze' to rebuild documents.jsonl."
            )
        stamp = {"creatingUser": user, "creationDateTime": created}
        _select(
            source,
            (doc_id, "label"),
            0,
            len(text),
            f"document label: {label}",
            _text(r.get("annotation")),
            codes[f"label:{label}"],
            stamp,
        )
        for key, kind_default in (("hr_mentions", "hr"), ("signals", "coopting")):
            for i, span in enumerate(r.get(key) or []):
                start, end = span.get("start"), span.get("end")
                if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                    continue
                kind = kind_default if key == "hr_mentions" else str(span.get("kind") or kind_default)
                category = HR_CATEGORY if kind == "hr" else str(span.get("category") or "other")
                if category not in codes:
                    add_code(category, category, category_colour(category), f"{kind} signal category")
                _select(
                    source,
                    (doc_id, key, span.get("id", i)),
                    start,
                    end,
                    text[start:end],
                    _flags(span),
                    codes[category],
                    stamp,
                )
        for var in var_names:
            value = _text(r.get(var))
            if value:
                vv = ET.SubElement(source, _q("VariableValue"))
                ET.SubElement(vv, _q("VariableRef"), {"targetGUID": variables[var]})
                ET.SubElement(vv, _q("TextValue")).text = _xml_text(value)

    ET.indent(project)
    xml = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", xml)
        for path, text in files.items():
            zf.writestr(path, text.encode("utf-8"))
    return buf.getvalue()


def _select(
    source: ET.Element,
    key: tuple[Any, ...],
    start: int,
    end: int,
    name: str,
    description: str,
    code_guid: str,
    stamp: dict[str, str],
) -> None:
    """Add a coded ``PlainTextSelection`` (character offsets) to a ``TextSource``."""
    sel = ET.SubElement(
        source,
        _q("PlainTextSelection"),
        {
            "guid": _guid("selection", *key),
            "name": _xml_text(name[:200]),
            "startPosition": str(start),
            "endPosition": str(end),
            **stamp,
        },
    )
    if description:
        ET.SubElement(sel, _q("Description")).text = _xml_text(description)
    coding = ET.SubElement(sel, _q("Coding"), {"guid": _guid("coding", *key), **stamp})
    ET.SubElement(coding, _q("CodeRef"), {"targetGUID": code_guid})


def _origin() -> str:
    from . import __version__

    return f"hrdiscourse {__version__}"


# --- entry point --------------------------------------------------------------------------


def _sibling(out: Path, suffix: str) -> Path:
    return out.with_name(f"{out.stem}{suffix}")


def export(run: str | os.PathLike[str] | Corpus, format: str, out: str | os.PathLike[str]) -> list[Path]:
    """Export a run (or a :class:`~hrdiscourse.api.Corpus`) in one of :data:`FORMATS`.

    Args:
        run: The output folder of ``hrdiscourse analyze``, or a Corpus.
        format: ``csv``, ``parquet``, ``bibtex``, ``csl-json`` or ``qdpx``.
        out: The file to write; its folder is created. ``csv`` and ``parquet`` also write
            the spans next to it as ``<stem>.spans.csv`` / ``<stem>.spans.parquet``.

    Returns:
        The files written.

    Raises:
        ConfigError: An unknown format, or a run folder without ``documents.jsonl``.
    """
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise ConfigError(f"export format {format!r} unknown; use one of {', '.join(FORMATS)}.")
    corpus = run if isinstance(run, Corpus) else Corpus.from_dir(run)
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give a file name, e.g. {path / ('corpus.' + _EXT[fmt])}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        spans = _sibling(path, ".spans.csv")
        corpus.documents.to_csv(path, index=False)
        corpus.spans.to_csv(spans, index=False)
        return [path, spans]
    if fmt == "parquet":
        spans = _sibling(path, ".spans.parquet")
        corpus.documents.to_parquet(path, index=False, engine="pyarrow")
        corpus.spans.to_parquet(spans, index=False, engine="pyarrow")
        return [path, spans]
    if fmt == "bibtex":
        path.write_text(to_bibtex(corpus), encoding="utf-8")
    elif fmt == "csl-json":
        path.write_text(
            json.dumps(to_csl_json(corpus), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    else:
        path.write_bytes(to_qdpx(corpus, name=path.stem))
    return [path]


_EXT = {"csv": "csv", "parquet": "parquet", "bibtex": "bib", "csl-json": "json", "qdpx": "qdpx"}
