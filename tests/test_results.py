"""Tests for hrdiscourse.results: the one reader of a run's documents.jsonl, errors.jsonl and manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hrdiscourse.api import Corpus
from hrdiscourse.errors import ConfigError, IngestError, ResultsError, StoreError
from hrdiscourse.reports import rebuild_reports
from hrdiscourse.results import iter_documents, iter_errors, read_manifest
from hrdiscourse.store import Store

REPAIR = "a file cut off by a stopped run is repaired by 'hrdiscourse analyze ... --resume'."
GOOD = '{"doc_id": "a", "text": "x"}\n'


@pytest.mark.parametrize(
    ("content", "docs"),
    [
        (GOOD + "\n   \n" + '{"doc_id": "b"}\n', ["a", "b"]),
        ("\ufeff" + GOOD, ["a"]),  # a byte-order mark added by an editor
        ('{"doc_id": "a", "text": "line\u2028separator"}\n', ["a"]),
        ("", []),
    ],
)
def test_results_iter_documents_reads_every_result(tmp_path: Path, content: str, docs: list[str]) -> None:
    path = tmp_path / "documents.jsonl"
    path.write_text(content, encoding="utf-8")
    assert [d["doc_id"] for d in iter_documents(path)] == docs


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (GOOD + '{"doc_id": \n', 2, f"not valid JSON (Expecting value at column 12); {REPAIR}"),
        (
            GOOD + "[1, 2]\n",
            2,
            "expected a JSON object with 'doc_id', got a JSON array; "
            "is this the output of 'hrdiscourse analyze'?",
        ),
        (
            GOOD + "\n" + '{"id": "a"}\n',
            3,
            "expected a JSON object with 'doc_id', got an object without it; "
            "is this the output of 'hrdiscourse analyze'?",
        ),
        (GOOD.encode() + b'{"doc_id": "\xff"}\n', 2, "not UTF-8 text (byte 13); hrdiscourse writes UTF-8"),
    ],
)
def test_results_bad_line_names_file_line_and_fix(
    tmp_path: Path, content: str | bytes, line: int, reason: str
) -> None:
    path = tmp_path / "documents.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    seen = []
    with pytest.raises(ResultsError) as info:
        seen.extend(iter_documents(path))
    assert str(info.value).startswith(f"{path}: line {line}: {reason}")
    assert (info.value.source, info.value.location, info.value.line) == (str(path), f"line {line}", line)
    assert [d["doc_id"] for d in seen] == ["a"]  # streamed: the good line came first


@pytest.mark.parametrize("reader", [iter_documents, iter_errors])
def test_results_missing_file_raises_when_named(tmp_path: Path, reader) -> None:
    path = tmp_path / "nowhere" / "documents.jsonl"
    with pytest.raises(ResultsError, match=re.escape(f"{path}: not found; give the output folder of")):
        reader(path)  # not only once iterated


@pytest.mark.parametrize(
    ("content", "required", "expected"),
    [
        (None, False, {}),
        (None, True, "not found; give the output folder"),
        ('{"inputs": 3}', True, {"inputs": 3}),
        ("{", False, "not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        ("[]", False, "expected a JSON object, got a JSON array; rerun 'hrdiscourse analyze' to rewrite it."),
    ],
)
def test_results_read_manifest(tmp_path: Path, content: str | None, required: bool, expected) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    if isinstance(expected, dict):
        assert read_manifest(path, required=required) == expected
    else:
        with pytest.raises(ResultsError, match=re.escape(f"{path}: {expected}")):
            read_manifest(path, required=required)


def _add_run(run: Path) -> None:
    with Store(":memory:") as store:
        store.add_run(run)


@pytest.mark.parametrize(
    ("open_run", "documented"),
    [(Corpus.from_dir, ConfigError), (_add_run, StoreError), (rebuild_reports, IngestError)],
)
@pytest.mark.parametrize("problem", ["missing", "bad line"])
def test_results_each_entry_point_raises_its_documented_class(
    tmp_path: Path, report_results: list[dict], open_run, documented: type, problem: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text("{}", encoding="utf-8")
    path = run / "documents.jsonl"
    if problem == "bad line":
        path.write_text(json.dumps(report_results[0]) + "\n{not json\n", encoding="utf-8")
        message = f"{path}: line 2: not valid JSON"
    else:
        message = f"{path}: not found; give the output folder of 'hrdiscourse analyze ... --out DIR'."
    with pytest.raises(documented) as info:
        open_run(run)
    assert isinstance(info.value, ResultsError)
    assert str(info.value).startswith(message)
