"""End-to-end runs of ``analyze``: accounting, schema, resume, safe file names, CLI exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrdiscourse.analysis import RESULT_KEYS
from hrdiscourse.cli import app
from hrdiscourse.runner import run_analysis, safe_name

TEXTS = {
    "a.txt": "---\ntitle: A drop-in\noutlet: Valley Courier\n---\n"
    "The peer-led drop-in offers harm reduction supplies and asks nothing in return.\n",
    "b.txt": "City council approved the new bus schedule on Tuesday after a short debate.\n",
    "c.txt": "The ministry said its program helps women leave the sex trade, as part of a harm "
    "reduction approach.\n",
}


def _corpus(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for name, text in TEXTS.items():
        (src / name).write_text(text, encoding="utf-8")
    (src / "copy-of-b.txt").write_text(TEXTS["b.txt"], encoding="utf-8")  # duplicate
    (src / "empty.txt").write_bytes(b"")  # rejected
    (src / "records.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Police announced a crackdown on street-level sex work."})
        + "\n{not json\n",
        encoding="utf-8",
    )
    return src


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("run")
    out = tmp / "out"
    manifest = run_analysis(_corpus(tmp), out, mode="full", write_reports=False)
    return out, manifest


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_runner_accounts_for_every_input(run: tuple[Path, dict]) -> None:
    out, manifest = run
    assert manifest["analysed"] == 4
    assert manifest["duplicates"] == 1
    assert manifest["errors"] == 2
    assert manifest["inputs"] == manifest["analysed"] + manifest["errors"] + manifest["duplicates"] == 7
    errors = _lines(out / "errors.jsonl")
    assert {Path(e["source"]).name for e in errors} == {"empty.txt", "records.jsonl"}
    assert all(e["reason"] for e in errors)


@pytest.mark.parametrize("key", RESULT_KEYS)
def test_runner_documents_follow_the_schema(run: tuple[Path, dict], key: str) -> None:
    out, _ = run
    docs = _lines(out / "documents.jsonl")
    assert docs and all(key in d for d in docs)


def test_runner_writes_one_json_per_document(run: tuple[Path, dict]) -> None:
    out, _ = run
    docs = _lines(out / "documents.jsonl")
    for d in docs:
        saved = json.loads((out / "docs" / f"{safe_name(d['doc_id'])}.json").read_text(encoding="utf-8"))
        assert saved["doc_id"] == d["doc_id"]


def test_runner_labels_none_without_harm_reduction(run: tuple[Path, dict]) -> None:
    out, _ = run
    docs = {d["text"].strip(): d for d in _lines(out / "documents.jsonl")}
    assert docs[TEXTS["b.txt"].strip()]["label"] == "none"
    assert docs[TEXTS["b.txt"].strip()]["hr_mentions"] == []


def test_runner_resume_completes_a_torn_run(tmp_path: Path, run: tuple[Path, dict]) -> None:
    full_out, _ = run
    src = _corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    lines = (full_out / "documents.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    # A run killed while writing its third line: two whole lines and half of one.
    (out / "documents.jsonl").write_text(
        "".join(lines[:2]) + lines[2][: len(lines[2]) // 2], encoding="utf-8"
    )
    manifest = run_analysis(src, out, mode="full", resume=True, write_reports=False)
    docs = _lines(out / "documents.jsonl")
    assert sorted(d["doc_id"] for d in docs) == sorted(json.loads(x)["doc_id"] for x in lines)
    assert manifest["analysed"] == 4 and manifest["resumed"] == 2


@pytest.mark.parametrize(
    "doc_id",
    ["../../etc/passwd", "a/b/c", "..", ".hidden", "C:\\x\\y", "naïve-ünïcødé", "", "x" * 300, "con"],
)
def test_runner_safe_name_stays_inside(tmp_path: Path, doc_id: str) -> None:
    name = safe_name(doc_id)
    target = (tmp_path / f"{name}.json").resolve()
    assert target.parent == tmp_path.resolve()
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_runner_safe_name_keeps_distinct_ids_apart() -> None:
    assert safe_name("a/b") != safe_name("a_b")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["analyze", "does-not-exist", "--out", "x"], 2, "does-not-exist: no such file or folder"),
        (
            ["analyze", "IN", "--out", "OUT", "--mode", "turbo"],
            1,
            "mode 'turbo' is not one of default, full, fast",
        ),
    ],
)
def test_cli_analyze_errors(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("text", encoding="utf-8")
    args = [str(src) if a == "IN" else str(tmp_path / "o") if a == "OUT" else a for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code
    assert message in result.stderr


def test_cli_analyze_exits_3_when_inputs_are_rejected(tmp_path: Path) -> None:
    src = _corpus(tmp_path)
    result = CliRunner().invoke(
        app, ["analyze", str(src), "--out", str(tmp_path / "o"), "--no-reports", "-q"]
    )
    assert result.exit_code == 3, result.output
    assert "4 analysed, 2 rejected, 1 duplicates of 7 inputs" in result.stdout


def _fault(doc):
    if "INJECTED-FAULT" in doc.text:
        raise ValueError("injected fault")
    return doc


def test_runner_a_failing_document_is_rejected_and_the_batch_goes_on() -> None:
    from spacy.language import Language

    from hrdiscourse.analysis import Analyzer
    from hrdiscourse.types import Record, Rejected

    if "hrd_test_fault" not in Language.factories:
        Language.component("hrd_test_fault", func=_fault)
    analyzer = Analyzer(mode="fast")
    analyzer.nlp.add_pipe("hrd_test_fault", first=True)
    texts = ["Harm reduction saves lives.", "An INJECTED-FAULT document.", "City council met on Tuesday."]
    items = [
        (Record(t, {"doc_id": f"d{i}", "source": f"x.jsonl:line {i + 1}", "language": "en"}), i)
        for i, t in enumerate(texts)
    ]
    out = list(analyzer.analyze_records(items, batch_size=4))
    assert [ctx for _, ctx, _ in out] == [0, 1, 2]
    assert isinstance(out[1][2], Rejected)
    assert "injected fault" in out[1][2].reason and out[1][2].location == "line 2"
    assert isinstance(out[0][2], dict) and isinstance(out[2][2], dict)


_FREEZE_SCRIPT = """
import gc, json, sys
from hrdiscourse.analysis import Analyzer
from hrdiscourse.types import Record

analyzer = Analyzer(mode="fast", freeze_gc=sys.argv[1] == "on")
counts = [gc.get_freeze_count()]
for i, (text, lang) in enumerate([("Harm reduction saves lives.", "en"), ("Police met on Tuesday.", "en")]):
    list(analyzer.analyze_records([(Record(text, {"doc_id": f"d{i}", "language": lang}), None)]))
    counts.append(gc.get_freeze_count())
print(json.dumps(counts))
"""


@pytest.mark.parametrize("setting", ["on", "off"])
def test_analyzer_freezes_the_loaded_models_once_per_language(setting: str) -> None:
    """In a fresh interpreter: the first English documents freeze what is loaded, the next ones
    freeze nothing more; ``freeze_gc=False`` never freezes."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _FREEZE_SCRIPT, setting], capture_output=True, text=True, check=True
    )
    before, first, second = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == 0
    if setting == "on":
        assert first > 100_000  # the libraries and models, not just the interpreter's objects
        assert second == first
    else:
        assert first == second == 0
