"""Tests for hrdiscourse.ingest: golden files per format, safety, encodings, metadata."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrdiscourse.errors import HRDiscourseWarning, IngestError
from hrdiscourse.ingest import SUPPORTED_SUFFIXES, read_corpus
from hrdiscourse.ingest.decode import clean_string, clean_text, decode_bytes
from hrdiscourse.ingest.meta import guess_doc_type, normalise_date, text_id
from hrdiscourse.types import META_KEYS, Record, Rejected

DATA = Path(__file__).parent / "data" / "ingest"
CASES = sorted(p.name.removesuffix(".expected.json") for p in DATA.glob("*.expected.json"))
CANARY = (DATA / "secret" / "xxe_secret.txt").read_text(encoding="utf-8").strip()


def _read(paths, *, chdir: Path | None = None) -> tuple[list[Record], list[Rejected], list[str]]:
    errors: list[Rejected] = []
    old = Path.cwd()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if chdir is not None:
                os.chdir(chdir)
            records = list(read_corpus(paths, errors=errors))
        finally:
            os.chdir(old)
    return records, errors, [str(w.message) for w in caught if issubclass(w.category, HRDiscourseWarning)]


@pytest.mark.parametrize("case", CASES)
def test_ingest_golden(case: str, ingest_data: Path) -> None:
    expected = json.loads((ingest_data / f"{case}.expected.json").read_text(encoding="utf-8"))
    records, errors, warned = _read(expected["input"], chdir=ingest_data)

    assert [r.text[:60] for r in records] == [r["text_startswith"] for r in expected["records"]]
    assert [r.meta for r in records] == [r["meta"] for r in expected["records"]]
    for record in records:
        assert set(META_KEYS) <= set(record.meta)
    assert len(errors) == len(expected["errors"])
    for got, want in zip(errors, expected["errors"], strict=True):
        assert (got.source, got.location) == (want["source"], want["location"])
        if "reason" in want:
            assert got.reason == want["reason"]
        else:
            assert got.reason.startswith(want["reason_startswith"])
    assert warned == expected["warnings"]
    for absent in expected.get("text_absent", []):
        assert all(absent not in r.text for r in records), absent


@pytest.mark.parametrize("name", ["feed_xxe.xml", "feed_xxe_malformed.rss", "feed_billion_laughs.xml"])
def test_ingest_feed_never_expands_entities(name: str, ingest_data: Path) -> None:
    records, errors, _ = _read(name, chdir=ingest_data)
    dumped = json.dumps([[r.text, r.meta] for r in records] + [e.to_dict() for e in errors])
    assert CANARY not in dumped
    assert "lollol" not in dumped
    assert records == [] and len(errors) == 1 and "refused" in errors[0].reason


@pytest.mark.parametrize(
    ("name", "message", "records_before"),
    [
        (
            "jsonl_bad_lines.jsonl",
            "jsonl_bad_lines.jsonl: line 2: invalid JSON (Expecting ',' delimiter at column 24); "
            "each JSONL record needs 'text'",
            1,
        ),
        ("empty_file.txt", "empty_file.txt: empty file (0 bytes); nothing to analyse.", 0),
        ("walk/notes.xyz", "walk/notes.xyz: unsupported file type '.xyz'; supported: .arc, .arc.gz,", 0),
    ],
)
def test_ingest_raises_first_rejection_without_error_list(
    name: str, message: str, records_before: int, ingest_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ingest_data)
    seen: list[Record] = []
    with pytest.raises(IngestError) as info:
        seen.extend(read_corpus(name))
    assert str(info.value).startswith(message)
    assert info.value.source == name
    assert len(seen) == records_before


@pytest.mark.parametrize("as_path", [False, True])
def test_ingest_reads_a_list_of_files_and_folders(as_path: bool, ingest_data: Path) -> None:
    inputs = ["walk", "csv_rows.csv", "walk/a.txt"]
    records, errors, _ = _read([Path(p) for p in inputs] if as_path else inputs, chdir=ingest_data)
    assert [r.source for r in records] == [
        "walk/a.txt",
        "walk/b/c.txt",
        "walk/sub/data.jsonl:line 1",
        "csv_rows.csv:line 2",
        "csv_rows.csv:line 3",
        "csv_rows.csv:line 8",
        "walk/a.txt",
    ]
    assert len(errors) == 5


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("réduction des méfaits".encode(), "réduction des méfaits"),
        (codecs.BOM_UTF8 + "méfaits".encode(), "méfaits"),
        (codecs.BOM_UTF16_LE + "méfaits «»".encode("utf-16-le"), "méfaits «»"),
        (codecs.BOM_UTF16_BE + "méfaits".encode("utf-16-be"), "méfaits"),
        ("Montréal – « réduction » œuvre".encode("cp1252"), "Montréal – « réduction » œuvre"),
        (b"caf\xe9 \x81", "café \x81"),  # 0x81 is undefined in cp1252: Latin-1 takes over
    ],
)
def test_ingest_decode_bytes(data: bytes, text: str) -> None:
    assert decode_bytes(data) == text


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("harm\u200b reduction", "harm reduction"),
        ("harm\u00adreduction\ufeff", "harmreduction"),
        ("a\x00b\x07c\td\r\ne", "abc\td\ne"),
        ("line\u2028next\x0cpage", "line\nnext\npage"),
        ("  trailing   \n\n\n\nnext  ", "trailing\n\nnext"),
        ("re\u0301duction\u00a0des", "réduction des"),
    ],
)
def test_ingest_clean_text(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


@pytest.mark.parametrize(("raw", "cleaned"), [(" Jane\u200b\n Roe\x00 ", "Jane Roe"), ("\u200b\x01", None)])
def test_ingest_clean_metadata_string(raw: str, cleaned: str | None) -> None:
    assert clean_string(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "iso", "warns"),
    [
        ("24 April 2019", "2019-04-24", False),
        ("Fri, 03 Mar 2023 22:30:00 -0500", "2023-03-03", False),
        ("2021-01-29T23:30:00-05:00", "2021-01-29", False),
        ("1er mars 2021", "2021-03-01", False),
        ("le 3 décembre 2020", "2020-12-03", False),
        ("March 2021", "2021-03", False),
        ("2021", "2021", False),
        ("12 May", "12 May", True),
        ("sometime soon", "sometime soon", True),
        ("", None, False),
    ],
)
def test_ingest_normalise_date(raw: str, iso: str | None, warns: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert normalise_date(raw, where="x.jsonl: line 3") == iso
    messages = [str(w.message) for w in caught if issubclass(w.category, HRDiscourseWarning)]
    assert bool(messages) == warns
    assert all(m.startswith("x.jsonl: line 3: date ") for m in messages)


@pytest.mark.parametrize(
    ("text", "outlet", "doc_type"),
    [
        ("Call for proposals. Applications open now.", None, "funding_call"),
        ("Applicants must meet eligibility rules. The deadline is May 1.", "Metro", "funding_call"),
        ("TORONTO, March 3, 2021 /CNW/ - Funding announced.", "Newswire", "government"),
        ("News release. The department announced funding.", None, "government"),
        ("The Minister spoke to reporters.", None, "government"),
        ("The Minister spoke to reporters.", "CBC News", "news"),
        ("Abstract\nWe study harm reduction. doi:10.1016/j.drugpo.2020.01.001", None, "academic"),
        ("Our organization condemns the new law.", None, "ngo"),
        ("Harm reduction saves lives.", "Le Devoir", "news"),
        ("Harm reduction saves lives.", None, "other"),
    ],
)
def test_ingest_guess_doc_type(text: str, outlet: str | None, doc_type: str) -> None:
    assert guess_doc_type(text, outlet=outlet) == doc_type


@pytest.mark.parametrize(("a", "b"), [("harm  reduction\n", "harm reduction"), ("x\u200by", "xy")])
def test_ingest_text_id_ignores_whitespace_and_invisibles(a: str, b: str) -> None:
    assert text_id(a) == text_id(b) == hashlib.sha1(b.encode()).hexdigest()[:16]


@pytest.mark.parametrize("size", [200_000])
def test_ingest_csv_large_field(size: int, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], ["big", "harm reduction " * (size // 15)]])
    records, errors, _ = _read(path)
    assert errors == [] and len(records) == 1 and len(records[0].text) >= size - 15


@pytest.mark.parametrize("link_name", ["loop"])
def test_ingest_walk_does_not_follow_symlinked_folders(link_name: str, tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text("Harm reduction.", encoding="utf-8")
    (tmp_path / link_name).symlink_to(tmp_path, target_is_directory=True)
    records, errors, _ = _read(tmp_path)
    assert [r.text for r in records] == ["Harm reduction."]
    assert [e.to_dict() for e in errors] == [
        {
            "source": f"{tmp_path.as_posix()}/{link_name}",
            "location": "",
            "reason": "a symbolic link to a folder; linked folders are not followed (they can loop), "
            "pass the folder itself to read it.",
        }
    ]


_PREFIXES = [
    b"",
    b"%PDF-1.4\n",
    b"---\ntitle: x\n---\n",
    b'{"text": "',
    b"id,text\n",
    b"<?xml version='1.0'?><rss>",
]


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=600))
def test_ingest_arbitrary_bytes_give_records_or_rejections(suffix: str, prefix: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(prefix + body)
        records, errors, _ = _read(path)
    assert all(isinstance(r, Record) and r.text and r.doc_id and r.source for r in records)
    assert all(isinstance(e, Rejected) and e.reason for e in errors)
    # The catch-all in read_file must not be what saved us: readers handle bad input themselves.
    assert not [e.reason for e in errors if e.reason.startswith("unexpected error")]
