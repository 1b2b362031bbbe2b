"""Web archives (``.warc``, ``.warc.gz``, and the older ``.arc``, ``.arc.gz``), read with warcio.

A crawl keeps every capture in one file: pages, but also their images, style sheets,
scripts, redirects and error pages, and the crawler's own bookkeeping. The archive is
streamed record by record (it is never loaded whole; one capture's payload at a time)
and each record is one of three things:

- **A document**: a ``response`` with HTTP status 200, or a ``resource`` or
  ``conversion`` record, whose content type is HTML (``text/html``,
  ``application/xhtml+xml``), PDF or plain text. HTML goes through the ``.html``
  reader's extraction (trafilatura: main text, title, author, date, site name), PDF
  through the ``.pdf`` reader, plain text as it is. ``url`` is the capture's
  ``WARC-Target-URI``.
- **A capture that is not analysed**, listed as a Rejected with its reason: another
  HTTP status (redirects, 404s), another content type (images, CSS, JavaScript), a
  page without text, a ``revisit`` record (the crawler stored no payload because it
  had seen the same one before).
- **Crawler bookkeeping**, which is not an input and is not listed: ``warcinfo``,
  ``request`` and ``metadata`` records, and DNS lookups (``dns:`` target URIs).

A Record's location is ``offset N``, the byte offset of its WARC record in the file
(what CDX indexes store), so ``warcio extract FILE N`` prints the capture. A truncated
or corrupt archive gives the records before the damage and one Rejected at the offset
where reading stopped.

``WARC-Date`` is when the page was crawled, not when it was published, so it never
becomes the ``date`` of a document; it is kept with the record id under
``meta["extra"]`` (``warc_date``, ``warc_record_id``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from ..types import Record, Rejected
from .decode import decode_bytes, looks_binary
from .html import html_record
from .meta import make_record
from .pdf import pdf_record

#: Compressed and uncompressed suffixes this reader takes.
WARC_SUFFIXES: tuple[str, ...] = (".warc", ".warc.gz", ".arc", ".arc.gz")
#: Content types (without parameters) read as documents.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
#: Crawler bookkeeping: not inputs, never listed.
PROTOCOL_RECORDS = frozenset({"warcinfo", "request", "metadata"})
#: Record types whose payload can be a document.
PAYLOAD_RECORDS = frozenset({"response", "resource", "conversion"})
#: WARC header fields without which a record cannot be delimited or classified.
_REQUIRED_HEADERS = ("WARC-Type", "Content-Length")
#: A single capture larger than this is not read into memory.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024

_SUPPORTED_TYPES = "HTML, PDF and plain text are analysed"


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _sniff(data: bytes) -> str:
    """A content type from the payload's first bytes, for captures that declare none."""
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "application/pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "text/html"
    return ""


def _what(record: ArcWarcRecord) -> str:
    """The capture as a reason names it: target URI and record id."""
    target = record.rec_headers.get_header("WARC-Target-URI") or "(no WARC-Target-URI)"
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    return f"{target} (WARC-Record-ID {record_id})" if record_id else target


def _status_reason(status: str, record: ArcWarcRecord) -> str:
    what = _what(record)
    if status.startswith("3"):
        location = record.http_headers.get_header("Location") if record.http_headers else None
        to = f" to {location}" if location else ""
        return (
            f"HTTP {status} redirect{to} for {what}; a redirect has no document. The page it points to is "
            "analysed where its own capture is in the archive; crawl that URL if it is not."
        )
    return (
        f"HTTP {status} response for {what}; only status 200 captures are documents. "
        "Crawl the page again if it should be analysed."
    )


def _payload(record: ArcWarcRecord) -> bytes:
    """The capture's payload, transfer and content encodings (chunked, gzip, br) removed."""
    data = record.content_stream().read(MAX_PAYLOAD_BYTES + 1)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise OverflowError
    return data


def _document(
    record: ArcWarcRecord, data: bytes, media: str, *, file: str, location: str
) -> Record | Rejected:
    target = record.rec_headers.get_header("WARC-Target-URI")
    meta: dict[str, Any] = {
        "warc_date": record.rec_headers.get_header("WARC-Date"),
        "warc_record_id": record.rec_headers.get_header("WARC-Record-ID"),
    }
    # The capture's URL, not the page's canonical link: it is where the text was found.
    if target:
        meta["url"] = target
    if media in HTML_TYPES:
        return html_record(data, file=file, location=location, meta=meta)
    if media in PDF_TYPES:
        return pdf_record(data, file=file, location=location, meta=meta)
    text = decode_bytes(data)
    if looks_binary(text):
        return Rejected(
            file,
            f"the {media} capture of {_what(record)} looks like binary data, not text; "
            "check the crawl's content types.",
            location,
        )
    return make_record(text, meta, file=file, location=location, what="the capture")


def _is_truncated(record: ArcWarcRecord, archive: ArchiveIterator) -> bool:
    """Whether the file ended inside the record just drained.

    The record's block is read through a reader limited to its Content-Length: a limit
    left over means the data stopped early. In a ``.warc.gz`` the record's gzip member
    must also be complete (its trailer read), or the file was cut inside it.
    """
    if getattr(record.raw_stream, "limit", 0) > 0:
        return True
    decompressor = getattr(getattr(archive, "reader", None), "decompressor", None)
    return decompressor is not None and getattr(decompressor, "eof", True) is False


def _detail(exc: BaseException) -> str:
    # warcio quotes the bytes it could not parse; binary junk is cut short.
    text = " ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":")
    return text if len(text) <= 160 else text[:157] + "..."


def _corrupt(file: str, offset: int, exc: BaseException, *, after: int) -> Rejected:
    read = f"{after} record{'s were' if after != 1 else ' was'} read" if after else "no record was read"
    if "non-chunked gzip" in str(exc):
        # `gzip whole.warc` makes one gzip stream; WARC tools write one gzip member per record.
        return Rejected(
            file,
            f"the archive is compressed as one gzip stream, not one gzip member per record, so its records "
            f"cannot be told apart ({read}). Run 'warcio recompress {Path(file).name} fixed.warc.gz' (or "
            "decompress it with gunzip) and read the result.",
        )
    return Rejected(
        file,
        f"corrupt or truncated web archive from here on ({_detail(exc)}); {read} before this point. "
        "Download or copy the archive again.",
        f"offset {max(offset, 0)}",
    )


def _not_an_archive(file: str, expected: str, detail: str) -> Rejected:
    kind = "a WARC" if expected == "warc" else "an ARC"
    return Rejected(
        file,
        f"not {kind} file ({detail}); check the file type: {', '.join(WARC_SUFFIXES)} files are web "
        "archives, compressed or not.",
    )


def read_warc(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a web archive: one document per HTML, PDF or text capture, ``offset N`` each.

    Args:
        path: The file (``.warc``, ``.warc.gz``, ``.arc``, ``.arc.gz``; compression is
            detected from the content).
        file: Its source path as reported.

    Yields:
        A Record per analysed capture; a Rejected (``offset N``) per capture that is not
        analysed, and one for damage that stops the reading. Crawler bookkeeping
        (``warcinfo``, ``request``, ``metadata`` records, DNS lookups) yields nothing.
    """
    expected = "arc" if path.name.lower().endswith((".arc", ".arc.gz")) else "warc"
    with path.open("rb") as fh:
        archive = ArchiveIterator(fh, arc2warc=expected == "arc")
        records = iter(archive)
        seen = 0
        produced = False
        while True:
            # Where the next record starts: where reading stopped, if it cannot be parsed.
            start = getattr(archive, "offset", 0)
            try:
                record = next(records)
            except StopIteration:
                # warcio ends quietly when a record header is cut off: bytes left over mean damage.
                end = getattr(archive, "offset", None)
                size = os.fstat(fh.fileno()).st_size
                if seen and isinstance(end, int) and 0 <= end < size:
                    yield _corrupt(file, end, EOFError("the file ends inside a record header"), after=seen)
                elif seen == 0:
                    yield _not_an_archive(file, expected, "no record found")
                elif not produced:
                    yield Rejected(
                        file,
                        f"the archive holds no captures, only crawler bookkeeping ({seen} warcinfo, request, "
                        f"metadata or DNS record{'s' if seen != 1 else ''}); nothing to analyse.",
                    )
                return
            except Exception as exc:  # noqa: BLE001 - warcio raises many types on damaged input
                if seen == 0:
                    yield _not_an_archive(file, expected, f"the first record cannot be read: {_detail(exc)}")
                else:
                    yield _corrupt(file, start, exc, after=seen)
                return
            if seen == 0 and not _starts_right(record, expected):
                yield _not_an_archive(
                    file,
                    expected,
                    "it does not start with "
                    + ("a WARC/1.x record" if expected == "warc" else "a filedesc:// header"),
                )
                return
            missing = [h for h in _REQUIRED_HEADERS if not record.rec_headers.get_header(h)]
            if expected == "warc" and missing:
                yield _corrupt(
                    file, start, ValueError(f"record header without {', '.join(missing)}"), after=seen
                )
                return
            seen += 1
            try:
                found = _classify(record)
                # Draining the record finds its offset, and whether the file ends inside it.
                offset = archive.get_record_offset()
            except Exception as exc:  # noqa: BLE001
                yield _corrupt(file, start, exc, after=seen - 1)
                return
            if _is_truncated(record, archive):
                yield _corrupt(file, offset, EOFError("the file ends inside this record"), after=seen - 1)
                return
            location = f"offset {offset}"
            produced = produced or found is not None
            if isinstance(found, str):
                yield Rejected(file, found, location)
            elif found is not None:
                try:
                    item = _document(record, *found, file=file, location=location)
                except Exception as exc:  # noqa: BLE001 - one bad capture must not stop the archive
                    item = Rejected(
                        file,
                        f"unexpected error while reading the capture of {_what(record)} "
                        f"({type(exc).__name__}: {exc}); please report it.",
                        location,
                    )
                yield item


def _starts_right(record: ArcWarcRecord, expected: str) -> bool:
    """Whether an archive's first record is what its suffix promises.

    Without this check warcio reads any line of five words as an ARC record header.
    ARC records are read as WARC ones (``arc2warc``), so an ARC file is recognised by
    its first record: the ``filedesc://`` header, which becomes a ``warcinfo`` record.
    """
    if expected == "arc":
        return record.rec_type == "warcinfo"
    return record.format == "warc"


def _classify(record: ArcWarcRecord) -> tuple[bytes, str] | str | None:
    """What a record is: None for crawler bookkeeping, a rejection reason, or (payload, content type)."""
    rec_type = record.rec_type or "(no WARC-Type)"
    target = record.rec_headers.get_header("WARC-Target-URI") or ""
    if rec_type in PROTOCOL_RECORDS or target.lower().startswith("dns:"):
        return None
    if rec_type == "revisit":
        refers = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
        earlier = f" ({refers})" if refers else ""
        return (
            f"revisit record for {_what(record)}: the crawler stored no payload because it matched an "
            f"earlier capture{earlier}; that capture is analysed where it is in the input. Add the archive "
            "that holds it to analyse it."
        )
    if rec_type not in PAYLOAD_RECORDS:
        return (
            f"{rec_type} record for {_what(record)} is not a capture hrdiscourse reads "
            "(response, resource and conversion records are)."
        )
    http = record.http_headers if rec_type == "response" else None
    if http is not None:
        status = http.get_statuscode() or "(none)"
        if status != "200":
            return _status_reason(status, record)
        declared = _media_type(http.get_header("Content-Type"))
    else:
        declared = _media_type(record.rec_headers.get_header("Content-Type"))
    if declared and declared not in HTML_TYPES | PDF_TYPES | TEXT_TYPES:
        return (
            f"content type {declared} of {_what(record)} is not a document ({_SUPPORTED_TYPES}); "
            "nothing to do unless the server mislabelled a page."
        )
    try:
        data = _payload(record)
    except OverflowError:
        return (
            f"the capture of {_what(record)} is larger than {MAX_PAYLOAD_BYTES // 2**20} MiB; "
            "extract it ('warcio extract') and read it as a file."
        )
    except Exception as exc:  # noqa: BLE001 - a bad content or transfer encoding spoils one capture
        return (
            f"the payload of {_what(record)} could not be decoded ({type(exc).__name__}: {exc}); "
            "check its Content-Encoding / Transfer-Encoding headers."
        )
    media = declared or _sniff(data)
    if not media:
        return (
            f"the capture of {_what(record)} declares no content type and does not look like HTML or PDF; "
            f"{_SUPPORTED_TYPES}."
        )
    return data, media
