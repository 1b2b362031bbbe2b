"""Corpus report: files written, tables, charts, streaming, rebuild from a run folder."""

from __future__ import annotations

import csv
import json
import struct
from collections import Counter
from pathlib import Path

import pytest

from hrdiscourse.errors import ConfigError, IngestError
from hrdiscourse.reports import rebuild_reports, safe_name, write_reports
from hrdiscourse.reports.citations import endnotes, to_markdown

TABLES = (
    "labels_by_doc_type",
    "labels_by_outlet",
    "labels_by_year",
    "cooccurrence",
    "concordance",
    "top_speakers",
    "top_outlets",
    "documents",
)
CHARTS = ("labels", "labels_by_year", "cooccurrence")


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def report_dir(
    tmp_path_factory, report_results: list[dict], report_manifest: dict
) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("reports") / "run"
    return out, write_reports(out, iter(report_results), report_manifest)


@pytest.mark.parametrize(
    "name",
    [
        "index.html",
        "corpus.md",
        "endnotes.md",
        *(f"tables/{t}.csv" for t in TABLES),
        *(f"charts/{c}.png" for c in CHARTS),
    ],
)
def test_reports_corpus_files_written(name: str, report_dir: tuple[Path, list[Path]]) -> None:
    out, written = report_dir
    assert (out / name) in written and (out / name).stat().st_size > 0


@pytest.mark.parametrize("chart", CHARTS)
def test_reports_corpus_charts_are_png_and_embedded(chart: str, report_dir: tuple[Path, list[Path]]) -> None:
    out, _ = report_dir
    width, height = _png_size(out / "charts" / f"{chart}.png")
    assert width >= 400 and height >= 200
    assert (out / "charts" / f"{chart}.png").stat().st_size > 5000
    assert f'<img src="charts/{chart}.png"' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["docs"])
def test_reports_corpus_one_page_per_document(
    key: str, report_dir: tuple[Path, list[Path]], report_results: list[dict]
) -> None:
    out, _ = report_dir
    pages = sorted(p.name for p in (out / key).iterdir())
    assert pages == sorted(f"{safe_name(r['doc_id'])}.html" for r in report_results)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="docs/{p}"' in index for p in pages)


@pytest.mark.parametrize("version", ["coopting_signals", "1.2.0", "en_core_web_sm", "rules-1"])
def test_reports_corpus_shows_versions(version: str, report_dir: tuple[Path, list[Path]]) -> None:
    out, _ = report_dir
    assert version in (out / "index.html").read_text(encoding="utf-8")
    assert version in (out / "corpus.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("table", ["labels_by_doc_type"])
def test_reports_corpus_label_counts(table: str, report_dir: tuple[Path, list[Path]], report_results) -> None:
    out, _ = report_dir
    expected = Counter((r["label"], r["doc_type"]) for r in report_results)
    for row in _rows(out / "tables" / f"{table}.csv"):
        for doc_type, value in row.items():
            if doc_type not in ("label", "total"):
                assert int(value) == expected[(row["label"], doc_type)]
        assert int(row["total"]) == sum(v for (lb, _), v in expected.items() if lb == row["label"])


@pytest.mark.parametrize(
    ("category", "strength", "count"), [("exit_abstinence", "direct", 4), ("law_enforcement", "sentence", 1)]
)
def test_reports_corpus_cooccurrence(category: str, strength: str, count: int, report_dir) -> None:
    """Documents per category at their strongest link; negated and critical spans do not count."""
    out, _ = report_dir
    rows = {r["signal_category"]: r for r in _rows(out / "tables" / "cooccurrence.csv")}
    # grand, rieger, french, unsafe-meta, hostile copy of grand: direct exit links that are not critical.
    assert int(rows[category][strength]) == count + (1 if category == "exit_abstinence" else 0)
    assert "aligned_agency" in rows and rows["aligned_agency"]["sentence"] == "1"


@pytest.mark.parametrize("doc_id", ["rieger-2019"])
def test_reports_corpus_concordance(doc_id: str, report_dir) -> None:
    out, _ = report_dir
    rows = [r for r in _rows(out / "tables" / "concordance.csv") if r["doc_id"] == doc_id]
    assert rows == [
        {
            "category": "exit_abstinence",
            "strength": "direct",
            "doc_id": doc_id,
            "label": "coopted",
            "left": rows[0]["left"],
            "keyword": "leave sex work",
            "right": rows[0]["right"],
            "hr_phrase": "harm reduction approach",
        }
    ]
    # The context stays inside the signal's sentence.
    assert rows[0]["left"] == "One agency will use its share to provide support to help people"
    assert rows[0]["right"] == ", which it describes as a harm reduction approach."


@pytest.mark.parametrize(("table", "first"), [("top_speakers", "the chief"), ("top_outlets", "CBC News")])
def test_reports_corpus_top_tables(table: str, first: str, report_dir) -> None:
    out, _ = report_dir
    assert _rows(out / "tables" / f"{table}.csv")[0][table.split("_")[1][:-1]] == first


@pytest.mark.parametrize("name", ["endnotes.md"])
def test_reports_corpus_endnotes_file(name: str, report_dir, report_results) -> None:
    out, _ = report_dir
    text = (out / name).read_text(encoding="utf-8")
    assert text == to_markdown(endnotes(report_results))
    assert text.startswith("- i. See e.g. ") and "(describes “support to help people leave sex work”" in text
    assert text in (out / "corpus.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("n", [3])
def test_reports_corpus_streams(n: int, tmp_path: Path, report_results, report_manifest) -> None:
    """Each page is on disk before the next result is asked for."""
    out = tmp_path / "run"

    def results():
        for i, r in enumerate(report_results[:n]):
            if i:
                assert (out / "docs" / f"{safe_name(report_results[i - 1]['doc_id'])}.html").exists()
            yield r

    written = write_reports(out, results(), report_manifest)
    assert len([p for p in written if p.parent.name == "docs"]) == n


@pytest.mark.parametrize("empty", [[]])
def test_reports_corpus_empty_run(empty: list, tmp_path: Path, report_manifest) -> None:
    written = write_reports(tmp_path, empty, report_manifest)
    assert (tmp_path / "endnotes.md").read_text(encoding="utf-8") == ""
    assert all(_png_size(tmp_path / "charts" / f"{c}.png")[0] > 0 for c in CHARTS)
    assert tmp_path / "index.html" in written


@pytest.mark.parametrize("files", [("endnotes.md", "corpus.md", "tables/cooccurrence.csv")])
def test_reports_corpus_rebuild(
    files: tuple[str, ...], tmp_path: Path, report_results, report_manifest
) -> None:
    direct = tmp_path / "direct"
    write_reports(direct, report_results, report_manifest)
    run = tmp_path / "run"
    run.mkdir()
    with (run / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for r in report_results:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    (run / "manifest.json").write_text(json.dumps(report_manifest), encoding="utf-8")
    written = rebuild_reports(run)
    assert run / "index.html" in written
    for name in files:
        assert (run / name).read_text(encoding="utf-8") == (direct / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("missing", ["documents.jsonl", "manifest.json"])
def test_reports_corpus_rebuild_missing(missing: str, tmp_path: Path) -> None:
    for name in ("documents.jsonl", "manifest.json"):
        if name != missing:
            (tmp_path / name).write_text("{}\n" if name == "manifest.json" else "", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        rebuild_reports(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / missing}: not found; give the output folder of 'hrdiscourse analyze ... --out DIR'."
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object with 'doc_id', got a JSON array")],
)
def test_reports_corpus_rebuild_bad_line(line: str, reason: str, tmp_path: Path, report_results) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "documents.jsonl").write_text(
        json.dumps(report_results[0]) + "\n" + line + "\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match=f"documents.jsonl: line 2: {reason}") as info:
        rebuild_reports(tmp_path)
    assert info.value.location == "line 2"
