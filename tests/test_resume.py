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
from hrdiscourse.runner import run_analysis, safe_name

CLI = Path(sys.executable).parent / "hrdiscourse"
N_DOCS = 3000
#: Bytes of documents.jsonl after which the first run is killed (a few dozen lines).
KILL_AFTER_BYTES = 40_000

TEMPLATES = (
    "Item {i}: the peer-led drop-in offers harm reduction supplies without conditions.",
    "Item {i}: police announced a crackdown on street-level sex work in ward {i}.",
    "Item {i}: the council approved bus route {i} after a short debate.",
    "Item {i}: the ministry funds an exit program as part of a harm reduction approach.",
    "Item {i}: the café in Montréal hosted réduction des méfaits training — “{i}” ✓.",
)


def _write_corpus(path: Path, n: int) -> list[str]:
    ids = [f"doc-{i:05d}" for i in range(n)]
    lines = [
        json.dumps({"id": doc_id, "text": TEMPLATES[i % len(TEMPLATES)].format(i=i)})
        for i, doc_id in enumerate(ids)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def _complete_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines(keepends=True) if line.endswith(b"\n")]


def _killed_run(src: Path, out: Path) -> tuple[int, bytes]:
    """Start ``analyze`` in fast mode, SIGKILL it once documents.jsonl holds some lines."""
    docs = out / "documents.jsonl"
    args = [str(CLI), "analyze", str(src), "--out", str(out), "--mode", "fast", "--no-reports", "-q"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    "d": "The council approved a new bus schedule after a short debate.",
}


@pytest.fixture(scope="module")
def clean_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """documents.jsonl lines of an uninterrupted run over SMALL (fast mode)."""
    tmp = tmp_path_factory.mktemp("clean")
    src = tmp / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in SMALL.items()), encoding="utf-8"
    )
    run_analysis(src, tmp / "out", mode="fast", write_reports=False)
    return (tmp / "out" / "documents.jsonl").read_bytes().splitlines(keepends=True)


def _torn(lines: list[bytes], case: str) -> tuple[bytes, int]:
    """The documents.jsonl a damaged run left behind, and how many of its lines --resume keeps."""
    third = lines[2]
    if case == "cut_mid_line":
        return b"".join(lines[:2]) + third[: len(third) // 2], 2
    if case == "cut_mid_utf8_character":
        cut = third.index("é".encode()) + 1  # inside the two bytes of é
        return b"".join(lines[:2]) + third[:cut], 2
    if case == "cut_before_newline":
        return b"".join(lines[:2]) + third[:-1], 2
    if case == "zero_filled_tail":
        return b"".join(lines[:2]) + b"\x00" * 4096, 2
    if case == "mangled_bytes_then_newline":
        return b"".join(lines[:1]) + b"\xff\xfe{\x00\n" + lines[1], 1
    if case == "json_but_not_a_record":
        return b"".join(lines[:2]) + b"[1, 2]\nnull\n", 2
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
def test_resume_drops_a_torn_tail_and_analyses_it_again(
    tmp_path: Path, clean_lines: list[bytes], case: str
) -> None:
    # The third record carries the é that "cut_mid_utf8_character" cuts through.
    order = ["b", "c", "a", "d"]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": k, "text": SMALL[k]}) + "\n" for k in order), encoding="utf-8")
    by_id = {json.loads(line)["doc_id"]: line for line in clean_lines}
    lines = [by_id[k] for k in order]
    out = tmp_path / "out"
    out.mkdir()
    damaged, kept = _torn(lines, case)
    (out / "documents.jsonl").write_bytes(damaged)

    manifest = run_analysis(src, out, mode="fast", write_reports=False, resume=True)

    after = (out / "documents.jsonl").read_bytes().splitlines(keepends=True)
    assert after[:kept] == lines[:kept]
    assert sorted(json.loads(line)["doc_id"] for line in after) == sorted(SMALL)
    assert (manifest["analysed"], manifest["resumed"], manifest["inputs"]) == (4, kept, 4)


def test_resume_same_text_twice_stays_a_duplicate(tmp_path: Path) -> None:
    # Two files with the same text get the same text-hash id: after --resume the second is still
    # a duplicate, not a document "resumed" from the first run's line.
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(SMALL["a"], encoding="utf-8")
    (src / "b.txt").write_text(SMALL["a"], encoding="utf-8")
    (src / "c.txt").write_text(SMALL["b"], encoding="utf-8")
    out = tmp_path / "out"
    first = run_analysis(src, out, mode="fast", write_reports=False)
    lines = (out / "documents.jsonl").read_bytes().splitlines(keepends=True)
    (out / "documents.jsonl").write_bytes(lines[0])  # killed after the first line
    again = run_analysis(src, out, mode="fast", write_reports=False, resume=True)
    keys = ("inputs", "analysed", "errors", "duplicates")
    assert [again[k] for k in keys] == [first[k] for k in keys] == [3, 2, 0, 1]
    assert len((out / "documents.jsonl").read_bytes().splitlines()) == again["analysed"] == 2
