"""Tests for hrdiscourse.ingest.warc: web archives (WARC, ARC), built in the tests with warcio.

Every page here is a constructed illustration written for these tests, not a real page;
the urls are on example.org.
"""

from __future__ import annotations

import gzip
import io
import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from hrdiscourse.cli import app
from hrdiscourse.errors import HRDiscourseWarning
from hrdiscourse.ingest import read_corpus
from hrdiscourse.types import Record, Rejected

DATA = Path(__file__).parent / "data" / "ingest"
NOTICE = "Constructed illustration written for hrdiscourse tests; not a real article."


def _page(title: str, body: str, *, date: str = "2024-03-01") -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='author' content='Jo Writer'><meta property='og:site_name' content='Example Ledger'>"
        f"<meta property='article:published_time' content='{date}'>"
        "<meta name='hrdiscourse:constructed' content='true'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>{title}</h1><p>{NOTICE}</p><p>{body}</p>"
        "<p>The service is open every evening and asks for no names.</p></article>"
        "<footer>Example Ledger footer</footer></body></html>"
    ).encode()


PAGE_A = _page("Drop-in opens", "The peer-led drop-in offers harm reduction supplies with no conditions.")
PAGE_B = _page("Van launched", "Police call the van part of a harm reduction approach to exiting the trade.")


def _response(
    writer: WARCWriter, url: str, body: bytes, *, status: str = "200 OK", ctype="text/html", headers=()
):
    http = StatusAndHeaders(status, [("Content-Type", ctype), *headers], protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)


def _request(writer: WARCWriter, url: str):
    payload = io.BytesIO(f"GET {url} HTTP/1.1\r\nHost: example.org\r\n\r\n".encode())
    return writer.create_warc_record(
        url, "request", payload=payload, warc_content_type="application/http; msgtype=request"
    )


def _write(path: Path, build, *, compress: bool = True) -> Path:
    """Write a WARC file; ``build(writer)`` returns the records in order."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=compress)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "hrdiscourse tests"}))
        for record in build(writer):
            writer.write_record(record)
    return path


def _crawl(writer: WARCWriter) -> list:
    """Two pages, an image, a 404, a redirect and the crawler's request records."""
    return [
        _request(writer, "https://example.org/a"),
        _response(writer, "https://example.org/a", PAGE_A),
        _response(
            writer, "https://example.org/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), ctype="image/png"
        ),
        _response(
            writer, "https://example.org/gone", b"<html><body>Not found</body></html>", status="404 Not Found"
        ),
        _response(
            writer,
            "https://example.org/old",
            b"",
            status="301 Moved Permanently",
            headers=[("Location", "https://example.org/b")],
        ),
        _request(writer, "https://example.org/b"),
        _response(writer, "https://example.org/b", PAGE_B),
    ]


def _read(path: Path) -> tuple[list[Record], list[Rejected]]:
    errors: list[Rejected] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HRDiscourseWarning)
        records = list(read_corpus(path, errors=errors))
    return records, errors


@pytest.mark.parametrize("compress", [True, False])
def test_ingest_warc_reads_pages_and_lists_other_captures(tmp_path: Path, compress: bool) -> None:
    path = _write(tmp_path / ("crawl.warc.gz" if compress else "crawl.warc"), _crawl, compress=compress)
    records, errors = _read(path)

    assert [(r.meta["url"], r.meta["title"], r.meta["author"], r.meta["date"]) for r in records] == [
        ("https://example.org/a", "Drop-in opens", "Jo Writer", "2024-03-01"),
        ("https://example.org/b", "Van launched", "Jo Writer", "2024-03-01"),
    ]
    assert all(
        r.meta["outlet"] == "Example Ledger" and "Example Ledger footer" not in r.text for r in records
    )
    assert "harm reduction supplies" in records[0].text
    for record in records:
        assert record.source.startswith(f"{path.as_posix()}:offset ")
        assert record.meta["extra"]["warc_date"] and record.meta["extra"]["warc_record_id"].startswith(
            "<urn:"
        )
    # The image, the 404 and the redirect are listed; warcinfo and request records are not inputs.
    assert [e.reason.split(" ", 3)[:3] for e in errors] == [
        ["content", "type", "image/png"],
        ["HTTP", "404", "response"],
        ["HTTP", "301", "redirect"],
    ]
    assert "https://example.org/logo.png (WARC-Record-ID <urn:uuid:" in errors[0].reason
    assert "https://example.org/gone" in errors[1].reason and "Crawl the page again" in errors[1].reason
    assert "redirect to https://example.org/b for https://example.org/old" in errors[2].reason
    offsets = [int(x.split(":offset ")[1]) for x in (r.source for r in records)]
    rejected = [int(e.location.removeprefix("offset ")) for e in errors]
    assert all(e.source == path.as_posix() and e.location.startswith("offset ") for e in errors)
    assert offsets[0] < rejected[0] < rejected[1] < rejected[2] < offsets[1]


@pytest.mark.parametrize("compress", [True, False])
def test_ingest_warc_offset_is_where_the_record_starts(tmp_path: Path, compress: bool) -> None:
    path = _write(tmp_path / "crawl.warc.gz", _crawl, compress=compress)
    records, _ = _read(path)
    data = path.read_bytes()
    for record in records:
        offset = int(record.source.rsplit("offset ", 1)[1])
        head = gzip.decompress(data[offset:])[:9] if compress else data[offset : offset + 9]
        assert head.startswith(b"WARC/1.")


@pytest.mark.parametrize(("compress", "cut"), [(True, 200), (False, 200), (True, 5)])
def test_ingest_warc_truncated_keeps_earlier_records(tmp_path: Path, compress: bool, cut: int) -> None:
    whole = _write(tmp_path / "whole.warc.gz", _crawl, compress=compress).read_bytes()
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(whole[:-cut])
    records, errors = _read(path)
    assert [r.meta["url"] for r in records] == ["https://example.org/a"]
    assert len(errors) == 4
    last = errors[-1]
    assert last.source == path.as_posix() and last.location.startswith("offset ")
    assert last.reason.startswith("corrupt or truncated web archive from here on (")
    assert last.reason.endswith("Download or copy the archive again.")


@pytest.mark.parametrize("name", ["paper.pdf"])
def test_ingest_warc_reads_a_pdf_capture(tmp_path: Path, name: str) -> None:
    pdf = (DATA / "pdf_text.pdf").read_bytes()
    url = f"https://example.org/files/{name}"
    path = _write(tmp_path / "pdf.warc.gz", lambda w: [_response(w, url, pdf, ctype="application/pdf")])
    records, errors = _read(path)
    expected = next(iter(read_corpus(DATA / "pdf_text.pdf")))
    assert errors == []
    assert [r.text for r in records] == [expected.text]
    assert records[0].meta["url"] == url
    assert records[0].meta["title"] == expected.meta["title"]


@pytest.mark.parametrize("same_text", [True, False])
def test_ingest_warc_duplicate_urls_are_separate_captures(tmp_path: Path, same_text: bool) -> None:
    url = "https://example.org/a"
    second = PAGE_A if same_text else PAGE_A.replace(b"every evening", b"every morning")
    path = _write(
        tmp_path / "twice.warc.gz", lambda w: [_response(w, url, PAGE_A), _response(w, url, second)]
    )
    records, errors = _read(path)
    assert errors == []
    assert [r.meta["url"] for r in records] == [url, url]
    assert len({r.source for r in records}) == 2
    # Same text, same content id: the runner counts the second capture as a duplicate.
    assert (records[0].doc_id == records[1].doc_id) is same_text


def _other_records(writer: WARCWriter) -> list:
    url = "https://example.org/a"
    revisit = writer.create_revisit_record(
        url,
        digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        refers_to_uri=url,
        refers_to_date="2024-01-01T00:00:00Z",
    )
    return [
        writer.create_warc_record(
            "dns:example.org",
            "response",
            payload=io.BytesIO(b"example.org. 300 IN A 192.0.2.1\n"),
            warc_content_type="text/dns",
        ),
        writer.create_warc_record(
            "https://example.org/notes.txt",
            "resource",
            payload=io.BytesIO(b"Plain notes: harm reduction supplies are free."),
            warc_content_type="text/plain",
        ),
        revisit,
        writer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(b"outlinks: https://example.org/b\r\n"),
            warc_content_type="application/warc-fields",
        ),
        _response(writer, "https://example.org/style.css", b"body{color:red}", ctype="text/css"),
        _response(writer, "https://example.org/blank", b"<html><body></body></html>"),
    ]


@pytest.mark.parametrize("compress", [True])
def test_ingest_warc_other_record_types(tmp_path: Path, compress: bool) -> None:
    path = _write(tmp_path / "other.warc.gz", _other_records, compress=compress)
    records, errors = _read(path)
    assert [(r.text, r.meta["url"]) for r in records] == [
        ("Plain notes: harm reduction supplies are free.", "https://example.org/notes.txt")
    ]
    # DNS and metadata records are bookkeeping; the revisit, the CSS and the empty page are listed.
    assert [e.reason[:28] for e in errors] == [
        "revisit record for https://e",
        "content type text/css of htt",
        "no text found in the HTML pa",
    ]
    assert "matched an earlier capture (https://example.org/a)" in errors[0].reason
    assert all(e.location.startswith("offset ") for e in errors)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "notes.warc",
            b"hello world this is not an archive\n" * 3,
            "not a WARC file (it does not start with",
        ),
        ("junk.warc.gz", b"\x1f\x8b\x08\x00junk", "not a WARC file ("),
        ("junk.arc", b"hello\n", "not an ARC file ("),
        (
            "whole.warc.gz",
            None,
            "the archive is compressed as one gzip stream, not one gzip member per record",
        ),
        ("info-only.warc", b"", "the archive holds no captures, only crawler bookkeeping (1 warcinfo"),
    ],
)
def test_ingest_warc_rejects_whole_files(tmp_path: Path, name: str, data: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if data is None:  # `gzip crawl.warc`: one gzip stream for the whole file
        plain = _write(tmp_path / "plain.warc", _crawl, compress=False).read_bytes()
        path.write_bytes(gzip.compress(plain))
    elif data == b"":
        _write(path, lambda w: [], compress=False)
    else:
        path.write_bytes(data)
    records, errors = _read(path)
    assert records == []
    assert [(e.source, e.location) for e in errors] == [(path.as_posix(), "")]
    assert errors[0].reason.startswith(reason), errors[0].reason


def _arc(pages: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """A version 1 ARC file: the filedesc:// header, then one record per (url, content type, body)."""
    version = b"1 0 hrdiscourse-tests\nURL IP-address Archive-date Content-type Archive-length\n"
    out = b"filedesc://test.arc 0.0.0.0 20240301000000 text/plain %d\n" % len(version) + version + b"\n"
    for url, ctype, body in pages:
        block = b"HTTP/1.0 200 OK\r\nContent-Type: " + ctype + b"\r\n\r\n" + body
        out += b"%s 192.0.2.1 20240301000000 %s %d\n" % (url, ctype, len(block)) + block + b"\n"
    return out


@pytest.mark.parametrize("name", ["old.arc"])
def test_ingest_warc_reads_arc_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(
        _arc(
            [
                (b"https://example.org/a", b"text/html", PAGE_A),
                (b"https://example.org/i.gif", b"image/gif", b"GIF89a"),
            ]
        )
    )
    records, errors = _read(path)
    assert [(r.meta["url"], r.meta["title"]) for r in records] == [("https://example.org/a", "Drop-in opens")]
    assert [e.reason.split(" of ")[0] for e in errors] == ["content type image/gif"]


@pytest.mark.slow
@pytest.mark.parametrize("compress", [True])
def test_ingest_warc_analyze_end_to_end(tmp_path: Path, compress: bool) -> None:
    src = tmp_path / "in"
    src.mkdir()

    def build(writer: WARCWriter) -> list:
        return [*_crawl(writer), _response(writer, "https://example.org/a-again", PAGE_A)]

    _write(src / "crawl.warc.gz", build, compress=compress)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["analyze", str(src), "--out", str(out), "--mode", "fast", "--no-reports", "-q"]
    )
    assert result.exit_code == 3, result.output  # some inputs were rejected
    assert "2 analysed, 3 rejected, 1 duplicates of 6 inputs" in result.stdout
    docs = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(d["url"], d["title"], d["outlet"]) for d in docs] == [
        ("https://example.org/a", "Drop-in opens", "Example Ledger"),
        ("https://example.org/b", "Van launched", "Example Ledger"),
    ]
    assert all(d["source"].startswith(f"{src.as_posix()}/crawl.warc.gz:offset ") for d in docs)
    assert all("harm reduction" in d["text"] and d["hr_mentions"] for d in docs)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["location"].split(" ")[0] for e in errors] == ["offset"] * 3
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"] == manifest["analysed"] + manifest["errors"] + manifest["duplicates"] == 6


@pytest.mark.parametrize("name", ["harbourview-crawl-2024.warc.gz"])
def test_ingest_warc_sample_archive_is_reproducible(repo_root: Path, tmp_path: Path, name: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_sample_warc", repo_root / "corpora/tools/make_sample_warc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = repo_root / "corpora" / "sample" / "web-archive" / name
    assert module.write_archive(tmp_path / name).read_bytes() == committed.read_bytes()
    assert committed.stat().st_size < 20_000
    records, errors = _read(committed)
    assert errors == [] and [r.meta["url"] for r in records] == [str(p["url"]) for p in module.PAGES]
