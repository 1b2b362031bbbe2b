"""``--resume`` after a killed run: every document exactly once, no torn line, right accounting."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrdiscourse.cli import app
from hrdiscourse.runner import _read_done, run_analysis, safe_name

CLI = Path(sys.executable).parent / "hrdiscourse"
N_DOCS = 3000
#: Bytes of documents.jsonl after which the first run is killed (a few dozen lines).
KILL_AFTER_BYTES = 40_000

#: Short texts, most without harm-reduction framing (as in real corpora): cheap to analyse.
TEMPLATES = (
    "Item {i}: harm reduction supplies, no conditions.",
    "Item {i}: police crackdown in ward {i}.",
    "Item {i}: bus route {i} approved.",
    "Item {i}: café budget vote “{i}”.",
    "Item {i}: weather was mild.",
    "Item {i}: school board met.",
    "Item {i}: road repairs in ward {i}.",
    "Item {i}: library hours extended.",
    "Item {i}: rescue of a stray dog.",
    "Item {i}: réduction des méfaits au café.",
)


def _write_corpus(path: Path, n: int) -> list[str]:
    ids = [f"doc-{i:05d}" for i in range(n)]
    lines = [
        json.dumps({"id": doc_id, "text": TEMPLATES[i % len(TEMPLATES)].format(i=i)})
        for i, doc_id in enumerate(ids)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def _killed_run(src: Path, out: Path) -> tuple[int, bytes]:
    """Start ``analyze`` in fast mode, SIGKILL it once documents.jsonl holds some lines."""
    docs = out / "documents.jsonl"
    args = [str(CLI), "analyze", str(src), "--out", str(out), "--mode", "fast", "--no-reports", "-q"]
    log = out.parent / "killed-run.stderr"
    with log.open("wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
    try:
        while proc.poll() is None:
            if docs.exists() and docs.stat().st_size >= KILL_AFTER_BYTES:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = log.read_text(encoding="utf-8", errors="replace")
    assert docs.exists(), f"the first run wrote no documents.jsonl (exit {proc.returncode}): {stderr[-2000:]}"
    return proc.returncode, docs.read_bytes()


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("resume")
    src = tmp / "corpus.jsonl"
    ids = _write_corpus(src, N_DOCS)
    out = tmp / "out"
    code, before = _killed_run(src, out)
    kept = [json.loads(line)["doc_id"] for line in before.splitlines(keepends=True) if line.endswith(b"\n")]
    result = CliRunner().invoke(
        app, ["analyze", str(src), "--out", str(out), "--mode", "fast", "--no-reports", "--resume", "-q"]
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {
        "ids": ids,
        "out": out,
        "kill_code": code,
        "before": before,
        "kept": kept,
        "cli": result,
        "manifest": manifest,
    }


def test_resume_first_run_was_killed_midway(resumed: dict) -> None:
    assert resumed["kill_code"] == -signal.SIGKILL, "the first run finished before it could be killed"
    assert 0 < len(resumed["kept"]) < N_DOCS


def test_resume_exits_0(resumed: dict) -> None:
    assert resumed["cli"].exit_code == 0, resumed["cli"].output
    assert f"{N_DOCS} analysed, 0 rejected, 0 duplicates of {N_DOCS} inputs" in resumed["cli"].stdout


def test_resume_every_document_exactly_once(resumed: dict) -> None:
    data = (resumed["out"] / "documents.jsonl").read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines(keepends=True)
    assert all(line.endswith(b"\n") for line in lines)
    assert len(lines) == len(set(lines)) == N_DOCS
    doc_ids = [json.loads(line)["doc_id"] for line in lines]
    assert len(set(doc_ids)) == N_DOCS
    assert sorted(doc_ids) == resumed["ids"]


def test_resume_keeps_the_lines_of_the_killed_run(resumed: dict) -> None:
    after = (resumed["out"] / "documents.jsonl").read_bytes()
    complete = b"".join(line for line in resumed["before"].splitlines(keepends=True) if line.endswith(b"\n"))
    assert after.startswith(complete)


def test_resume_manifest_accounting(resumed: dict) -> None:
    m = resumed["manifest"]
    assert m["inputs"] == m["analysed"] + m["errors"] + m["duplicates"] == N_DOCS
    assert (m["analysed"], m["errors"], m["duplicates"]) == (N_DOCS, 0, 0)
    assert m["resumed"] == len(resumed["kept"])


def test_resume_one_json_per_document(resumed: dict) -> None:
    docs = resumed["out"] / "docs"
    assert sorted(p.name for p in docs.iterdir()) == sorted(f"{safe_name(i)}.json" for i in resumed["ids"])


# --- torn and damaged tails ------------------------------------------------------------------

SMALL = {
    "a": "The peer-led drop-in offers harm reduction supplies — “without conditions” — in Montréal.",
    "b": "Police announced a crackdown on street-level sex work downtown.",
    "c": "The ministry funds an exit program as part of a harm reduction approach.",
}


def _lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_resume_reanalyses_a_torn_line_and_keeps_duplicates_apart(tmp_path: Path) -> None:
    # a.txt and copy.txt hold the same text, so the same text-hash id: after --resume the copy is
    # still a duplicate, not a document "resumed" from the first run's line.
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(SMALL["a"], encoding="utf-8")
    (src / "b.txt").write_text(SMALL["b"], encoding="utf-8")
    (src / "c.txt").write_text(SMALL["c"], encoding="utf-8")
    (src / "copy.txt").write_text(SMALL["a"], encoding="utf-8")
    out = tmp_path / "out"
    first = run_analysis(src, out, mode="fast", write_reports=False)
    lines = _lines_of(out / "documents.jsonl")
    # Killed while writing the second line, inside the two bytes of an "é".
    cut = lines[1].index("é".encode()) + 1 if "é" in lines[1].decode() else len(lines[1]) // 2
    (out / "documents.jsonl").write_bytes(lines[0] + lines[1][:cut])

    again = run_analysis(src, out, mode="fast", write_reports=False, resume=True)

    keys = ("inputs", "analysed", "errors", "duplicates")
    assert [again[k] for k in keys] == [first[k] for k in keys] == [4, 3, 0, 1]
    assert again["resumed"] == 1
    after = _lines_of(out / "documents.jsonl")
    assert after[0] == lines[0]
    assert sorted(json.loads(x)["doc_id"] for x in after) == sorted(json.loads(x)["doc_id"] for x in lines)


def _damaged(lines: list[bytes], case: str) -> tuple[bytes, int]:
    """A documents.jsonl a damaged run left behind, and how many of its lines are whole."""
    third = lines[2]
    if case == "cut_mid_line":
        return b"".join(lines[:2]) + third[: len(third) // 2], 2
    if case == "cut_mid_utf8_character":
        return b"".join(lines[:2]) + third[: third.index("é".encode()) + 1], 2
    if case == "cut_before_newline":
        return b"".join(lines[:2]) + third[:-1], 2
    if case == "zero_filled_tail":  # what a power cut can leave on ext4
        return b"".join(lines[:2]) + b"\x00" * 4096, 2
    if case == "mangled_bytes_then_newline":
        return lines[0] + b"\xff\xfe{\x00\n" + lines[1], 1
    if case == "json_but_not_a_record":
        return b"".join(lines[:2]) + b"[1, 2]\nnull\n" + third, 2
    if case == "empty_file":
        return b"", 0
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "cut_mid_line",
        "cut_mid_utf8_character",
        "cut_before_newline",
        "zero_filled_tail",
        "mangled_bytes_then_newline",
        "json_but_not_a_record",
        "empty_file",
    ],
)
def test_resume_drops_a_damaged_tail(tmp_path: Path, case: str) -> None:
    lines = [
        json.dumps(
            {"doc_id": f"d{i}", "content_hash": f"h{i}", "text": "réduction des méfaits"}, ensure_ascii=False
        ).encode()
        + b"\n"
        for i in range(3)
    ]
    path = tmp_path / "documents.jsonl"
    damaged, whole = _damaged(lines, case)
    path.write_bytes(damaged)
    ids, hashes = _read_done(path)
    assert ids == {f"d{i}" for i in range(whole)}
    assert hashes == {f"h{i}" for i in range(whole)}
    # Truncated to the whole lines, so that appending starts on a fresh line.
    assert path.read_bytes() == b"".join(lines[:whole])
