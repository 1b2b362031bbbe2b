"""Validation against a researcher's coding: stratified sample, agreement numbers, gold export."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrdiscourse.api import Corpus
from hrdiscourse.classify import load_gold_documents
from hrdiscourse.cli import app
from hrdiscourse.errors import ConfigError
from hrdiscourse.validation import CODING_COLUMNS, agreement, sample, to_gold

runner = CliRunner()


def _corpus(counts: dict[str, int]) -> Corpus:
    results = []
    for label, k in counts.items():
        for i in range(k):
            results.append(
                {
                    "doc_id": f"{label}-{i:03d}",
                    "title": f"{label} story {i}",
                    "url": f"https://example.org/{label}/{i}",
                    "label": label,
                    "text": f"Text of {label} story {i}.",
                }
            )
    return Corpus(results)


# --- sample -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "n", "expected"),
    [
        # 1 each, then 7 shared: quotas 3.5 / 2.1 / 1.4 -> 3 / 2 / 1, the leftover to the largest remainder.
        ({"none": 50, "coopted": 30, "aligned": 20}, 10, {"none": 5, "coopted": 3, "aligned": 2}),
        # A rare label still gets its one document.
        ({"none": 97, "critical": 1, "coopted": 2}, 5, {"none": 3, "critical": 1, "coopted": 1}),
        # Capped at what a label has; the rest goes elsewhere.
        ({"none": 4, "extension": 1}, 5, {"none": 4, "extension": 1}),
        ({"none": 3, "aligned": 2}, 50, {"none": 3, "aligned": 2}),
    ],
)
def test_validation_sample_is_stratified_by_label(counts: dict, n: int, expected: dict) -> None:
    table = sample(_corpus(counts), n, seed=1)
    assert tuple(table.columns) == CODING_COLUMNS
    assert dict(Counter(table["tool_label"])) == expected
    assert table["doc_id"].is_unique
    assert (table["human_label"] == "").all() and (table["notes"] == "").all()
    assert all(row.doc_id.startswith(row.tool_label) for row in table.itertuples())


@pytest.mark.parametrize("seed", [0, 7])
def test_validation_sample_is_reproducible(seed: int) -> None:
    corpus = _corpus({"none": 40, "coopted": 20, "aligned": 10})
    first = sample(corpus, 12, seed=seed)
    assert first.equals(sample(corpus, 12, seed=seed))
    assert not first.equals(sample(corpus, 12, seed=seed + 1))


@pytest.mark.parametrize(
    ("n", "message"),
    [
        (2, "n=2 is smaller than the 3 labels present (aligned, coopted, none)"),
        (0, "n=0: give the number of documents to sample, 1 or more."),
    ],
)
def test_validation_sample_rejects_too_small_n(n: int, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        sample(_corpus({"none": 5, "coopted": 5, "aligned": 5}), n)


@pytest.mark.parametrize("n", [7])
def test_validation_sample_writes_a_coding_file(report_run: Path, tmp_path: Path, n: int) -> None:
    out = tmp_path / "coding" / "coding.csv"
    table = sample(report_run, n, out=out)  # the report run has all seven labels
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CODING_COLUMNS)
    assert [r["doc_id"] for r in rows] == list(table["doc_id"])
    assert len({r["tool_label"] for r in rows}) == 7


# --- agreement ----------------------------------------------------------------------------

# (tool, human) pairs of a hand-made coding; "" = not coded yet.
PAIRS = [
    ("coopted", "coopted"),
    ("coopted", "coopted"),
    ("coopted", "copresent"),
    ("none", "none"),
    ("none", "none"),
    ("none", "none"),
    ("aligned", "aligned"),
    ("aligned", "coopted"),
    ("critical", "critical"),
    ("none", "aligned"),
    ("coopted", ""),
    ("none", "  "),
]


def _write_coding(path: Path, pairs: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CODING_COLUMNS)
        for i, (tool, human) in enumerate(pairs):
            writer.writerow([f"doc-{i}", f"Title {i}", "", tool, human, ""])
    return path


def _kappa_by_hand(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    p_o = sum(t == h for t, h in pairs) / n
    tool, human = Counter(t for t, _ in pairs), Counter(h for _, h in pairs)
    p_e = sum(tool[k] * human[k] for k in set(tool) | set(human)) / n**2
    return (p_o - p_e) / (1 - p_e)


@pytest.mark.parametrize("pairs", [PAIRS])
def test_validation_agreement_numbers(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    result = agreement(_write_coding(tmp_path / "coding.csv", pairs))
    coded = [(t, h) for t, h in pairs if h.strip()]
    assert (result.n, result.skipped) == (10, 2)
    assert result.kappa == pytest.approx(_kappa_by_hand(coded))
    assert result.accuracy == pytest.approx(7 / 10)
    # coopted: tool says coopted 3 times (2 right); the human says coopted 3 times (2 found).
    assert result.per_label.loc["coopted", "precision"] == pytest.approx(2 / 3)
    assert result.per_label.loc["coopted", "recall"] == pytest.approx(2 / 3)
    # none: tool 4 (3 right), human 3 (3 found).
    assert result.per_label.loc["none", "precision"] == pytest.approx(3 / 4)
    assert result.per_label.loc["none", "recall"] == pytest.approx(1.0)
    assert result.per_label.loc["none", "f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert result.per_label.loc["copresent", "recall"] == 0.0
    assert result.confusion.loc["copresent", "coopted"] == 1
    assert result.confusion.loc["aligned", "none"] == 1
    assert int(result.confusion.to_numpy().sum()) == 10
    assert list(result.confusion.index) == ["none", "aligned", "coopted", "copresent", "critical"]
    assert len(result.disagreements) == 3
    assert result.to_dict()["kappa"] == pytest.approx(result.kappa)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            [("none", "none"), ("none", "none"), ("coopted", "co-opted")],
            "line 4: human_label 'co-opted' is not a label",
        ),
        ([("nonee", "none")], "line 2: tool_label 'nonee' is not a label"),
        ([("none", "")], "no row has a human_label (1 empty); code some documents first."),
    ],
)
def test_validation_agreement_names_bad_lines(tmp_path: Path, pairs, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        agreement(_write_coding(tmp_path / "coding.csv", pairs))


@pytest.mark.parametrize("header", ["doc_id,title,tool_label\n"])
def test_validation_agreement_needs_the_columns(tmp_path: Path, header: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(header + "a,b,none\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("line 1: column(s) human_label missing")):
        agreement(path)


@pytest.mark.parametrize("labels", [["COOPTED ", "none"]])
def test_validation_agreement_ignores_case_and_spaces(tmp_path: Path, labels: list[str]) -> None:
    result = agreement(_write_coding(tmp_path / "c.csv", [("coopted", labels[0]), ("none", labels[1])]))
    assert result.accuracy == 1.0 and result.kappa == pytest.approx(1.0)


# --- gold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "test"])
def test_validation_to_gold_writes_loadable_gold(report_run: Path, tmp_path: Path, split: str) -> None:
    corpus = Corpus.from_dir(report_run)
    coded = [
        ("grand-2019", "coopted", "copresent"),
        ("peer-led", "aligned", "aligned"),
        ("no-hr", "none", ""),
    ]
    path = tmp_path / "coding.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CODING_COLUMNS)
        for doc_id, tool, human in coded:
            writer.writerow([doc_id, "", "", tool, human, "far apart" if human == "copresent" else ""])
    written = to_gold(path, report_run, tmp_path / "gold", split=split)
    assert len(written) == 2
    gold = {d.id: d for d in load_gold_documents(tmp_path / "gold")}
    assert set(gold) == {"grand-2019", "peer-led"}
    assert gold["grand-2019"].label == "copresent" and gold["grand-2019"].split == split
    assert gold["grand-2019"].meta["note"] == "far apart"
    assert gold["grand-2019"].meta["tool_label"] == "coopted"
    assert gold["grand-2019"].meta["constructed"] is False
    assert gold["grand-2019"].text == corpus["grand-2019"]["text"].strip("\n")
    assert gold["peer-led"].meta["title"] == corpus["peer-led"]["title"]


@pytest.mark.parametrize("doc_id", ["not-in-run"])
def test_validation_to_gold_names_unknown_documents(report_run: Path, tmp_path: Path, doc_id: str) -> None:
    path = _write_coding(tmp_path / "c.csv", [("none", "none")])
    path.write_text(path.read_text(encoding="utf-8").replace("doc-0", doc_id), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"line 2: doc_id '{doc_id}' is not in the run")):
        to_gold(path, report_run, tmp_path / "gold")


# --- CLI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [9])
def test_validation_cli_sample_then_agreement(report_run: Path, tmp_path: Path, n: int) -> None:
    out = tmp_path / "coding.csv"
    result = runner.invoke(app, ["sample", str(report_run), "--n", str(n), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {n} documents to {out}")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    for row in rows:
        row["human_label"] = row["tool_label"]
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CODING_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(app, ["agreement", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{n} coded documents (0 rows without human_label skipped)" in result.stdout
    assert "Cohen's kappa: 1.000; agreement: 100.0%" in result.stdout


@pytest.mark.parametrize("label", ["maybe"])
def test_validation_cli_agreement_reports_the_line(tmp_path: Path, label: str) -> None:
    path = _write_coding(tmp_path / "c.csv", [("none", "none"), ("none", label)])
    result = runner.invoke(app, ["agreement", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"hrdiscourse: error: {path}: line 3: human_label 'maybe' is not a label; "
        "use one of none, aligned, coopted, copresent, critical, extension, opposed.\n"
    )
