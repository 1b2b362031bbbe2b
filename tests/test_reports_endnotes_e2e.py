"""End to end: the seed's endnote xiii, reproduced from text by the real pipeline.

The three documents in ``corpora/sample/endnote-xiii/`` are constructed stand-ins that
carry the seed's metadata and do what the seed says the real articles do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hrdiscourse.runner import run_analysis

XIII = Path(__file__).resolve().parents[1] / "corpora" / "sample" / "endnote-xiii"


@pytest.fixture(scope="module")
def xiii_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xiii")
    run_analysis(XIII, out, mode="default")
    return out


@pytest.mark.parametrize(
    ("author", "label", "parenthetical"),
    [
        ("Robin Grand", "coopted", "frames an exit program as part of a harm reduction approach"),
        (
            "Sarah Rieger",
            "coopted",
            'describes "support to help people leave sex work" as a harm reduction approach',
        ),
        (
            "Vanessa Blanch",
            "copresent",
            "emphasizes giving sex workers the option to exit, "
            'while also mentioning a "harm reduction committee"',
        ),
    ],
)
def test_reports_endnote_xiii_from_text(xiii_run: Path, author: str, label: str, parenthetical: str) -> None:
    docs = {d["author"]: d for d in map(json.loads, (xiii_run / "documents.jsonl").read_text().splitlines())}
    assert docs[author]["label"] == label
    assert docs[author]["annotation"] == parenthetical
    endnotes = (xiii_run / "endnotes.md").read_text(encoding="utf-8")
    curly = parenthetical.replace('"', "“", 1).replace('"', "”", 1)
    assert f"({curly})" in endnotes or f"({parenthetical})" in endnotes
    assert "None" not in endnotes
