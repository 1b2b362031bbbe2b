"""The default two-pass mode: same labels as full, offsets into the original text, merged links."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrdiscourse.classify import label_document
from hrdiscourse.ingest import read_corpus
from hrdiscourse.nlp.serialize import doc_to_dict
from hrdiscourse.nlp.twopass import TwoPass, _intervals

CORPORA = ["corpora/gold/documents", "corpora/sample"]
FILLER = "The committee met again on Thursday to review the quarterly budget figures. "


@pytest.fixture(scope="module")
def twopass(nlp_fast, nlp_full) -> TwoPass:
    return TwoPass(nlp_fast, nlp_full)


@pytest.fixture(scope="module")
def compared(repo_root: Path, nlp_full, twopass: TwoPass) -> dict[str, list[tuple]]:
    """Per corpus: (record, full-mode spans, default-mode spans)."""
    out = {}
    for corpus in CORPORA:
        records = list(read_corpus(repo_root / corpus, errors=[]))
        texts = [r.text for r in records]
        full = [doc_to_dict(d) for d in nlp_full.pipe(texts)]
        default = list(twopass.pipe(texts))
        out[corpus] = list(zip(records, full, default, strict=True))
    return out


def _label(record, spans: dict) -> str:
    result = {"doc_id": record.doc_id, "text": record.text, "doc_type": record.meta.get("doc_type"), **spans}
    return label_document(result)["label"]


@pytest.mark.slow
@pytest.mark.parametrize("corpus", CORPORA)
def test_twopass_labels_match_full_mode(compared: dict, corpus: str) -> None:
    differ = [r.source for r, full, default in compared[corpus] if _label(r, full) != _label(r, default)]
    assert differ == []


@pytest.mark.slow
@pytest.mark.parametrize("corpus", CORPORA)
def test_twopass_offsets_index_the_original_text(compared: dict, corpus: str) -> None:
    bad = []
    for record, _, default in compared[corpus]:
        for span in default["hr_mentions"] + default["signals"]:
            if record.text[span["start"] : span["end"]] != span["text"]:
                bad.append((record.source, span["id"], "span"))
            sent = span["sentence"]
            if record.text[span["sent_start"] : span["sent_start"] + len(sent)] != sent:
                bad.append((record.source, span["id"], "sentence"))
            if not span["sent_start"] <= span["start"] < span["sent_start"] + max(len(sent), 1):
                bad.append((record.source, span["id"], "span outside its sentence"))
    assert bad == []


@pytest.mark.slow
@pytest.mark.parametrize("corpus", CORPORA)
def test_twopass_mentions_match_full_mode(compared: dict, corpus: str) -> None:
    def key(spans: dict) -> set:
        return {(m["start"], m["end"], m["negated"], m["critical"]) for m in spans["hr_mentions"]}

    assert [r.source for r, full, default in compared[corpus] if key(full) != key(default)] == []


@pytest.mark.slow
@pytest.mark.parametrize("corpus", CORPORA)
def test_twopass_links_are_one_per_signal_and_valid(compared: dict, corpus: str) -> None:
    for record, _, default in compared[corpus]:
        mentions = {m["id"]: m for m in default["hr_mentions"]}
        signals = {s["id"]: s for s in default["signals"]}
        linked = [k["signal"] for k in default["links"]]
        assert sorted(linked) == sorted(signals if mentions else []), record.source
        for link in default["links"]:
            m, s = mentions[link["mention"]], signals[link["signal"]]
            assert link["sent_distance"] == abs(m["sent_index"] - s["sent_index"]), record.source


@pytest.mark.slow
@pytest.mark.parametrize("n_filler", [0, 3, 8])
def test_twopass_skips_the_trained_pass_without_mentions(nlp_fast, nlp_full, n_filler: int) -> None:
    tp = TwoPass(nlp_fast, nlp_full)
    text = FILLER * n_filler + "Police announced a crackdown on street-level sex work."
    assert tp(text) == doc_to_dict(nlp_fast(text))
    assert tp.stats.window_chars == 0 and tp.stats.docs_with_mentions == 0


@pytest.mark.slow
@pytest.mark.parametrize("n_filler", [5, 8])
def test_twopass_parses_near_mentions_and_far_speech_only(nlp_fast, nlp_full, n_filler: int) -> None:
    tp = TwoPass(nlp_fast, nlp_full)
    near = "The minister said the exit program is part of a harm reduction approach. "
    far = "Officials said the police will arrest more people next year."
    text = near + FILLER * n_filler + far
    spans = tp(text)
    full = doc_to_dict(nlp_full(text))
    by_start = {s["start"]: s for s in spans["signals"]}
    full_by_start = {s["start"]: s for s in full["signals"]}
    exit_at, police_at = text.index("exit program"), text.index("police")
    # Near the mention and in far reported speech: speakers as in full mode.
    assert by_start[exit_at]["speaker"] == full_by_start[exit_at]["speaker"] is not None
    assert by_start[police_at]["speaker"] == full_by_start[police_at]["speaker"] is not None
    # Filler beyond the window (2) and margin (1) never reaches the trained pipeline.
    assert tp.stats.window_chars <= len(text) - (n_filler - 3) * len(FILLER.strip())
    strengths = {k["signal"]: k["strength"] for k in spans["links"]}
    assert strengths[by_start[police_at]["id"]] == "document"


@pytest.mark.slow
@pytest.mark.parametrize("speakers", [True, False])
def test_twopass_far_speakers_can_be_switched_off(nlp_fast, nlp_full, speakers: bool) -> None:
    tp = TwoPass(nlp_fast, nlp_full, speakers=speakers)
    text = "Harm reduction saves lives. " + FILLER * 6 + "Officials said the police will arrest more people."
    police = next(s for s in tp(text)["signals"] if s["text"] == "police")
    assert (police["speaker"] is not None) is speakers


@pytest.mark.parametrize(
    ("centres", "reach", "n", "expected"),
    [
        ([0], 2, 10, [(0, 2)]),
        ([5], 2, 10, [(3, 7)]),
        ([9], 2, 10, [(7, 9)]),
        ([2, 5], 2, 10, [(0, 7)]),
        ([1, 7], 2, 12, [(0, 3), (5, 9)]),
        ([1, 6], 2, 12, [(0, 8)]),  # adjacent intervals merge
        ([3, 3, 3], 0, 5, [(3, 3)]),
    ],
)
def test_twopass_intervals_merge_and_clip(centres: list[int], reach: int, n: int, expected: list) -> None:
    assert _intervals(centres, reach, n) == expected
