"""Tables of documents: JSON Lines (``.jsonl``, ``.ndjson``), ``.csv`` and ``.tsv``.

One document per line (JSONL) or row (CSV/TSV) with the columns ``id, text, title,
author, date, outlet, url, doc_type, language``; only ``text`` is required. Other
keys are kept in ``meta["extra"]``. Blank lines and blank rows are not documents and
are skipped; every other line becomes a Record or a Rejected with its ``line N``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from ..types import Record, Rejected
from .decode import clean_text, decode_bytes, looks_binary
from .meta import COLUMNS, make_record

_OPTIONAL = ", ".join(c for c in COLUMNS if c != "text")
_COLUMNS_HINT = "each {kind} record needs 'text' (and optionally " + _OPTIONAL + ")."
#: CSV fields can hold whole articles; the csv module's default limit is 128 KiB.
FIELD_SIZE_LIMIT = 2**31 - 1


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def read_jsonl(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a JSON Lines file: one JSON object per line.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        A Record or a Rejected (``line N``) per non-blank line.
    """
    hint = _COLUMNS_HINT.format(kind="JSONL")
    text = decode_bytes(path.read_bytes())
    # Split on "\n" only: str.splitlines() would also split on U+2028 inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        location = f"line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejected(file, f"invalid JSON ({exc.msg} at column {exc.colno}); {hint}", location)
            continue
        except (ValueError, RecursionError) as exc:
            yield Rejected(file, f"invalid JSON ({type(exc).__name__}: {exc}); {hint}", location)
            continue
        if not isinstance(obj, dict):
            yield Rejected(file, f"the line is a JSON {_json_type(obj)}, not an object; {hint}", location)
            continue
        if "text" not in obj:
            yield Rejected(file, f"field 'text' is missing; {hint}", location)
            continue
        if not isinstance(obj["text"], str):
            yield Rejected(
                file, f"field 'text' is a JSON {_json_type(obj['text'])}, not a string; {hint}", location
            )
            continue
        yield make_record(obj["text"], obj, file=file, location=location, what="field 'text'")


def _delimiter(header_line: str, default: str) -> str:
    # Excel in French locales writes ';'-separated ".csv" files.
    if default == "," and "," not in header_line and ";" in header_line:
        return ";"
    return default


def read_delimited(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a ``.csv`` (comma, or semicolon when the header has no comma) or ``.tsv`` file.

    The first row is the header; column names are matched case-insensitively. Fields
    may be quoted (as Excel and pandas write them) and may hold newlines.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        A Record or a Rejected (``line N``, the row's first line) per non-blank row;
        a single Rejected for the file when it has no ``text`` column.
    """
    kind = "TSV" if path.suffix.lower() == ".tsv" else "CSV"
    text = decode_bytes(path.read_bytes())
    if looks_binary(text):
        yield Rejected(
            file, f"file looks like binary data, not {kind} text; export it again as UTF-8 {kind}."
        )
        return
    # The csv module rejects NUL bytes outright; cleaning the whole text first keeps rows readable.
    text = text.replace("\x00", "")
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    delimiter = _delimiter(text.partition("\n")[0], "\t" if kind == "TSV" else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    last_line = 0
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if reader.line_num == last_line:  # no progress: stop rather than loop
                yield Rejected(
                    file, f"unreadable {kind} from here on ({exc}); check the quoting.", f"line {start}"
                )
                break
            last_line = reader.line_num
            yield Rejected(file, f"malformed {kind} row ({exc}); check the quoting.", f"line {start}")
            continue
        last_line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [clean_text(cell).lower() for cell in row]
            header_line = start
            if "text" not in header:
                found = ", ".join(repr(h) for h in header) or "none"
                yield Rejected(
                    file,
                    f"no 'text' column; found columns: {found}; add a column named 'text' holding the "
                    f"document text (optional columns: {_OPTIONAL}).",
                    f"line {header_line}",
                )
                return
            continue
        location = f"line {start}"
        if len(row) != len(header):
            yield Rejected(
                file,
                f"the row has {len(row)} fields but the header (line {header_line}) has {len(header)}; "
                f"quote fields that contain the delimiter {delimiter!r} or a line break.",
                location,
            )
            continue
        values = dict(zip(header, row, strict=True))
        raw = {k: (v if v.strip() else None) for k, v in values.items() if k}
        yield make_record(values["text"], raw, file=file, location=location, what="field 'text'")
