"""Every span gold file passes the standalone validator (format, offsets, ids, flags)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GOLD = Path(__file__).resolve().parents[1] / "corpora" / "gold"
FILES = sorted(GOLD.glob("spans*.jsonl"))


def test_gold_files_present() -> None:
    assert {p.name for p in FILES} >= {
        "spans.jsonl",
        "spans_holdout.jsonl",
        "spans_holdout2.jsonl",
        "spans_holdout3.jsonl",
        "spans_holdout4.jsonl",
        "spans_fr.jsonl",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_span_gold_validates(path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(GOLD / "check_spans.py"), str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 error(s)" in proc.stdout


def test_validator_rejects_a_bad_offset(tmp_path: Path) -> None:
    bad = tmp_path / "spans.jsonl"
    bad.write_text(
        '{"id": "en-0001", "split": "dev", "language": "en", "source": "constructed", '
        '"text": "A harm reduction program.", "spans": [{"text": "harm-reduction", "occurrence": 1, '
        '"category": "harm_reduction", "negated": false, "hedged": false, "quoted": false, '
        '"critical": false}], "note": "x"}\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(GOLD / "check_spans.py"), str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 1
