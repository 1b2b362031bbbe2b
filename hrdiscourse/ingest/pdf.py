"""PDF documents (``.pdf``): the text layer of every page, read with pypdf.

Pages are joined with a blank line. Title, author and creation date come from the
document information dictionary. Encrypted PDFs are opened with the empty password
(owner-password-only files); anything else that cannot be read is rejected with
what to do about it.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError

from ..types import Record, Rejected
from .decode import clean_text
from .meta import make_record

# pypdf logs every repaired cross-reference table; the reader reports through Rejected.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_PDF_DATE_RE = re.compile(r"^D?:?(\d{4})(\d{2})?(\d{2})?")
_NO_TEXT = (
    "no extractable text; the PDF may be scanned images — run OCR first (e.g. ocrmypdf) and read the result."
)


def _pdf_date(raw: Any) -> str | None:
    # Info dates look like "D:20210303101500-05'00'"; only the date part is wanted.
    match = _PDF_DATE_RE.match(str(raw or "").strip())
    if not match:
        return str(raw) if raw else None
    return "-".join(part for part in match.groups() if part)


def _info(reader: pypdf.PdfReader) -> dict[str, Any]:
    try:
        info = reader.metadata
    except Exception:  # noqa: BLE001 - a damaged info dictionary only loses metadata
        return {}
    if not info:
        return {}
    found: dict[str, Any] = {}
    for key, field in (("/Title", "title"), ("/Author", "author")):
        try:
            value = info.get(key)
        except Exception:  # noqa: BLE001 - unreadable indirect object
            value = None
        if isinstance(value, str) and value.strip():
            found[field] = value
    try:
        found["date"] = _pdf_date(info.get("/CreationDate"))
    except Exception:  # noqa: BLE001
        pass
    return found


def read_pdf(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a PDF as one document.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        One Record, or one Rejected: not a PDF, encrypted, corrupt or truncated, or no
        text layer.
    """
    yield pdf_record(path.read_bytes(), file=file)


def pdf_record(
    data: bytes, *, file: str, location: str = "", meta: Mapping[str, Any] | None = None
) -> Record | Rejected:
    """Read one PDF's text layer and metadata (the ``.pdf`` reader, and PDFs in web archives).

    Args:
        data: The PDF bytes.
        file: The file's source path.
        location: Where the PDF is inside the file (``offset N`` in a web archive), empty
            for a whole file.
        meta: Metadata that overrides the PDF's own (a capture's target URL) or is kept
            under ``extra``.

    Returns:
        A Record, or a Rejected: not a PDF, encrypted, corrupt or truncated, or no text
        layer.
    """
    if b"%PDF-" not in data[:1024]:
        return Rejected(
            file, "not a PDF file (no '%PDF-' header); check the file type or the download.", location
        )
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        return Rejected(
            file,
            f"corrupt or truncated PDF ({type(exc).__name__}: {exc}); download or export it again.",
            location,
        )
    if encrypted:
        try:
            opened = reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
        except DependencyError:
            return Rejected(
                file,
                "encrypted PDF (AES): decrypting it needs the 'cryptography' package; install it "
                "(pip install cryptography) or save an unencrypted copy and read that.",
                location,
            )
        except Exception as exc:  # noqa: BLE001
            return Rejected(
                file, f"encrypted PDF that could not be decrypted ({type(exc).__name__}: {exc}).", location
            )
        if not opened:
            return Rejected(
                file,
                "encrypted PDF: it needs a password; save an unencrypted copy (e.g. qpdf --decrypt "
                "--password=... in.pdf out.pdf) and read that.",
                location,
            )
    pages: list[str] = []
    failures = 0
    try:
        page_list = list(reader.pages)
    except FileNotDecryptedError:
        return Rejected(
            file, "encrypted PDF: it needs a password; save an unencrypted copy and read that.", location
        )
    except Exception as exc:  # noqa: BLE001
        return Rejected(
            file,
            f"corrupt or truncated PDF ({type(exc).__name__}: {exc}); download or export it again.",
            location,
        )
    for page in page_list:
        try:
            pages.append(clean_text(page.extract_text() or ""))
        except Exception:  # noqa: BLE001 - one damaged page must not lose the others
            failures += 1
    text = "\n\n".join(p for p in pages if p)
    if not text:
        if failures:
            reason = (
                f"corrupt PDF: text extraction failed on {failures} of {len(page_list)} pages; "
                "export it again."
            )
        else:
            reason = _NO_TEXT
        return Rejected(file, reason, location)
    raw = _info(reader)
    raw.update({k: v for k, v in (meta or {}).items() if v is not None})
    return make_record(text, raw, file=file, location=location)
