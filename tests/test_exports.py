"""Exports are checked by reading them back: pandas, bibtexparser, json, and the REFI-QDA structure."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hrdiscourse.api import DOCUMENT_COLUMNS, SPAN_COLUMNS, Corpus
from hrdiscourse.cli import app
from hrdiscourse.errors import ConfigError
from hrdiscourse.exports import QDA_NAMESPACE, export, split_authors, split_name
from hrdiscourse.types import LABELS

NS = {"q": QDA_NAMESPACE}
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Child order of the REFI-QDA Project.xsd (QDA-XML 1.0) sequences that the export uses.
PROJECT_ORDER = ["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs"]
SOURCE_ORDER = ["Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef", "VariableValue"]

runner = CliRunner()


def _local(tag: str) -> str:
    return tag.split("}", 1)[1]


def _in_order(children: list[str], order: list[str]) -> bool:
    ranks = [order.index(c) for c in children]
    return ranks == sorted(ranks)


# --- tables -------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "reader"), [("csv", pd.read_csv), ("parquet", pd.read_parquet)])
def test_exports_tables_read_back(
    report_run: Path, report_results: list[dict], tmp_path: Path, fmt: str, reader
) -> None:
    out = tmp_path / "out" / f"corpus.{fmt}"
    paths = export(report_run, fmt, out)
    assert paths == [out, out.with_name(f"corpus.spans.{fmt}")]
    docs = reader(paths[0])
    assert tuple(docs.columns) == DOCUMENT_COLUMNS
    assert list(docs["doc_id"]) == [r["doc_id"] for r in report_results]
    assert list(docs["label"]) == [r["label"] for r in report_results]
    spans = reader(paths[1])
    assert tuple(spans.columns) == SPAN_COLUMNS
    assert len(spans) == sum(len(r["hr_mentions"]) + len(r["signals"]) for r in report_results)
    texts = {r["doc_id"]: r["text"] for r in report_results}
    for row in spans.itertuples():
        assert texts[row.doc_id][int(row.start) : int(row.end)] == row.text


@pytest.mark.parametrize("fmt", ["parquet"])
def test_exports_parquet_round_trips_exactly(report_run: Path, tmp_path: Path, fmt: str) -> None:
    corpus = Corpus.from_dir(report_run)
    out = tmp_path / f"c.{fmt}"
    export(corpus, fmt, out)
    pd.testing.assert_frame_equal(pd.read_parquet(out), corpus.documents)
    pd.testing.assert_frame_equal(pd.read_parquet(out.with_name("c.spans.parquet")), corpus.spans)


# --- reference managers ---------------------------------------------------------------------


def _bib_entries(path: Path) -> list[dict]:
    import bibtexparser
    from bibtexparser.bparser import BibTexParser

    parser = BibTexParser(common_strings=False, ignore_nonstandard_types=False)
    db = bibtexparser.loads(path.read_text(encoding="utf-8"), parser=parser)
    assert not db.comments and not db.preambles, "stray text outside entries"
    return db.entries


@pytest.mark.parametrize(
    ("doc_id", "entry_type", "fields"),
    [
        (
            "grand-2019",
            "article",
            {
                "author": "Grand, Robin",
                "date": "2019-04-24",
                "year": "2019",
                "journal": "Penticton Western News",
                "url": "http://www.pentictonwesternnews.com/news/federal-funding-helps-women-at-risk-safely-leave-sex-trade/",
            },
        ),
        ("carbon-tax", "article", {"year": "2018", "journal": "Regulation Review"}),
        ("peer-led", "misc", {"howpublished": "Example Post", "keywords": "hrdiscourse, aligned"}),
        ("bare-doc", "misc", {"keywords": "hrdiscourse, coopted"}),
    ],
)
def test_exports_bibtex_parses_with_the_fields(
    report_run: Path, report_results: list[dict], tmp_path: Path, doc_id: str, entry_type: str, fields: dict
) -> None:
    out = tmp_path / "refs.bib"
    export(report_run, "bibtex", out)
    entries = _bib_entries(out)
    assert len(entries) == len(report_results)
    assert len({e["ID"] for e in entries}) == len(entries)
    result = next(r for r in report_results if r["doc_id"] == doc_id)
    entry = next(
        e for e in entries if f"hrdiscourse label: {result['label']}" in e["note"] and _same(e, result)
    )
    assert entry["ENTRYTYPE"] == entry_type
    for key, value in fields.items():
        assert entry[key] == value
    if result.get("annotation"):
        assert entry["note"].startswith(result["annotation"].split('"')[0][:20])


def _same(entry: dict, result: dict) -> bool:
    title = result.get("title")
    return entry.get("title") == title if title else "title" not in entry


@pytest.mark.parametrize("doc_id", ["../../evil/<script>"])
def test_exports_bibtex_escapes_special_characters(
    tmp_path: Path, report_results: list[dict], doc_id: str
) -> None:
    hostile = next(r for r in report_results if r["doc_id"] == doc_id)
    odd = {**hostile, "doc_id": "odd", "title": r"50% of {braces} & $cash_# ~x^ back\slash", "text": "x"}
    out = tmp_path / "odd.bib"
    export(Corpus([hostile, odd]), "bibtex", out)
    entries = _bib_entries(out)
    assert len(entries) == 2
    odd_entry = next(e for e in entries if "50" in e.get("title", ""))
    assert (
        odd_entry["title"]
        == r"50\% of \{braces\} \& \$cash\_\# \textasciitilde{}x\textasciicircum{} back\textbackslash{}slash"
    )
    assert all("javascript" not in e.get("url", "") for e in entries)


@pytest.mark.parametrize(
    ("doc_id", "expected"),
    [
        (
            "grand-2019",
            {
                "type": "article-newspaper",
                "author": [{"family": "Grand", "given": "Robin"}],
                "issued": {"date-parts": [[2019, 4, 24]]},
                "container-title": "Penticton Western News",
            },
        ),
        ("peer-led", {"type": "report", "publisher": "Example Post", "keyword": "hrdiscourse, aligned"}),
        ("carbon-tax", {"issued": {"date-parts": [[2018]]}}),
    ],
)
def test_exports_csl_json_has_required_keys(
    report_run: Path, report_results: list[dict], tmp_path: Path, doc_id: str, expected: dict
) -> None:
    out = tmp_path / "refs.json"
    export(report_run, "csl-json", out)
    items = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(items, list) and len(items) == len(report_results)
    for item in items:
        assert {"id", "type", "note"} <= set(item)
        assert item["type"] in ("article-newspaper", "report", "article-journal")
        for author in item.get("author", []):
            assert set(author) in ({"family", "given"}, {"literal"})
        for parts in item.get("issued", {}).get("date-parts", []):
            assert all(isinstance(p, int) for p in parts)
        assert not item.get("URL", "http").startswith("javascript")
    item = next(i for i in items if i["id"] == doc_id)
    for key, value in expected.items():
        assert item[key] == value
    label = next(r["label"] for r in report_results if r["doc_id"] == doc_id)
    assert (
        item["note"].endswith(f"(hrdiscourse label: {label})")
        or item["note"] == f"hrdiscourse label: {label}"
    )


@pytest.mark.parametrize(
    ("value", "authors"),
    [
        ("Robin Grand", ["Robin Grand"]),
        ("Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe; Government of Canada", ["Jane Doe", "Government of Canada"]),
        (
            "Butterfly Asian and Migrant Sex Worker Support Network",
            ["Butterfly Asian and Migrant Sex Worker Support Network"],
        ),
        (["A. Smith", "Ludwig van Beethoven"], ["A. Smith", "Ludwig van Beethoven"]),
        (None, []),
    ],
)
def test_exports_split_authors_keeps_organisations_whole(value, authors: list[str]) -> None:
    assert split_authors(value) == authors


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("Robin Grand", ("Grand", "Robin")),
        ("Ludwig van Beethoven", ("van Beethoven", "Ludwig")),
        ("CBC News", None),
        ("Government of Canada", None),
        ("Stella", None),
    ],
)
def test_exports_split_name_tells_people_from_organisations(name: str, parsed) -> None:
    assert split_name(name) == parsed


# --- REFI-QDA -----------------------------------------------------------------------------


def _qdpx(path: Path):
    import xml.etree.ElementTree as ET

    zf = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    root = ET.fromstring(zf.read("project.qde"))
    return zf, root


@pytest.mark.parametrize("name", ["corpus.qdpx"])
def test_exports_qdpx_follows_the_refi_qda_structure(
    report_run: Path, report_results: list[dict], tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    export(report_run, "qdpx", out)
    zf, root = _qdpx(out)
    assert root.tag == f"{{{QDA_NAMESPACE}}}Project" and root.get("name")
    assert _in_order([_local(c.tag) for c in root], PROJECT_ORDER)

    codes = {c.get("guid"): c for c in root.iterfind(".//q:CodeBook/q:Codes//q:Code", NS)}
    assert all(GUID.match(g) for g in codes)
    assert all(c.get("isCodable") in ("true", "false") and c.get("name") for c in codes.values())
    by_name = {c.get("name"): g for g, c in codes.items()}
    assert {f"label: {label}" for label in LABELS} | {"harm_reduction"} <= set(by_name)
    categories = {s["category"] for r in report_results for s in r["signals"]}
    assert categories <= set(by_name)
    variables = {v.get("guid") for v in root.iterfind(".//q:Variables/q:Variable", NS)}

    sources = root.findall(".//q:Sources/q:TextSource", NS)
    assert len(sources) == len(report_results)
    all_guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(all_guids) == len(set(all_guids)), "GUIDs must be unique"
    for source, result in zip(sources, report_results, strict=True):
        assert GUID.match(source.get("guid"))
        assert _in_order([_local(c.tag) for c in source], SOURCE_ORDER)
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        text = zf.read(f"Sources/{path.removeprefix('internal://')}").decode("utf-8")
        assert text == result["text"]
        selections = source.findall("q:PlainTextSelection", NS)
        assert len(selections) == 1 + len(result["hr_mentions"]) + len(result["signals"])
        coded: list[tuple[int, int, str]] = []
        for sel in selections:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start <= end <= len(text)
            (coding,) = sel.findall("q:Coding", NS)
            assert GUID.match(coding.get("guid"))
            (ref,) = coding.findall("q:CodeRef", NS)
            assert ref.get("targetGUID") in codes
            coded.append((start, end, codes[ref.get("targetGUID")].get("name")))
        assert (0, len(text), f"label: {result['label']}") in coded
        for span in result["hr_mentions"]:
            assert (span["start"], span["end"], "harm_reduction") in coded
        for span in result["signals"]:
            assert (span["start"], span["end"], span["category"]) in coded
        for value in source.findall("q:VariableValue", NS):
            assert value.find("q:VariableRef", NS).get("targetGUID") in variables


@pytest.mark.parametrize("fmt", ["qdpx"])
def test_exports_qdpx_is_reproducible(report_run: Path, tmp_path: Path, fmt: str) -> None:
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    export(report_run, fmt, a)
    export(report_run, fmt, b)
    read = lambda p: zipfile.ZipFile(p).read("project.qde").replace(b'name="a"', b'name="b"')  # noqa: E731
    assert read(a) == read(b)


# --- errors and CLI -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "message"),
    [("docx", "export format 'docx' unknown; use one of csv, parquet, bibtex, csl-json, qdpx.")],
)
def test_exports_rejects_unknown_format(report_run: Path, tmp_path: Path, fmt: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        export(report_run, fmt, tmp_path / "x")
    result = runner.invoke(app, ["export", str(report_run), "--format", fmt, "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert result.stderr == f"hrdiscourse: error: {message}\n"


@pytest.mark.parametrize("fmt", ["csv", "bibtex", "csl-json", "qdpx"])
def test_exports_cli_writes_the_file(report_run: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    result = runner.invoke(app, ["export", str(report_run), "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.stat().st_size > 0
    assert result.stdout.startswith(f"wrote {out}")


@pytest.mark.parametrize("missing", ["nowhere"])
def test_exports_cli_names_a_missing_run(tmp_path: Path, missing: str) -> None:
    result = runner.invoke(
        app, ["export", str(tmp_path / missing), "--format", "csv", "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"hrdiscourse: error: {tmp_path / missing / 'documents.jsonl'}: not found; "
        "give the output folder of 'hrdiscourse analyze ... --out DIR'.\n"
    )
