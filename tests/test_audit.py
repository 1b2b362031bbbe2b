"""Tests of the §5 programme/policy audit (hrdiscourse.audit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hrdiscourse.audit import audit, read_rubric
from hrdiscourse.errors import ConfigError, LexiconError

DATA = Path(__file__).parent / "data" / "audit"
REPO = Path(__file__).resolve().parents[1]
GOLDEN = sorted(DATA.glob("*.expected.json"))


@pytest.mark.parametrize("expected_path", GOLDEN, ids=[p.name.split(".")[0] for p in GOLDEN])
def test_audit_golden_cases(expected_path: Path, nlp_en) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    result = audit(REPO / expected["input"], nlp=nlp_en)
    assert result.overall == expected["overall"]
    assert {c.id: c.verdict for c in result.criteria} == expected["verdicts"]
    for crit in result.criteria:
        # a decided criterion always names the sentences that decided it
        assert bool(crit.evidence) == (crit.verdict != "not_addressed")


@pytest.mark.parametrize(
    ("exercise", "overall"), [("exercise1", "conflicts"), ("exercise2", "conflicts"), ("exercise3", "mixed")]
)
def test_audit_workshop_exercises_match_report(exercise: str, overall: str, nlp_en) -> None:
    assert audit(REPO / "corpora" / "audit" / f"{exercise}.txt", nlp=nlp_en).overall == overall


@pytest.mark.parametrize(
    ("text", "criterion", "verdict"),
    [
        ("Participation is not conditional on exiting.", "incompatible-iii", "meets"),
        ("Participation is not conditional on exiting.", "incompatible-ii", "meets"),
        ("Participation is conditional on exiting.", "incompatible-iii", "conflicts"),
        ("Participation is conditional on exiting.", "incompatible-ii", "conflicts"),
        ("Supervised consumption is permitted in the building.", "core-v", "meets"),
        ("Drug consumption is not permitted in the building.", "core-v", "conflicts"),
        (
            "A resident can only have a certain quantity of drugs in her possession.",
            "incompatible-v",
            "conflicts",
        ),
        ("Residents may bring one client at a time, for up to four hours.", "incompatible-v", "conflicts"),
        ("The sale of drugs is prohibited.", "incompatible-v", "conflicts"),
        ("Staff will contact police when they see indicators of trafficking.", "incompatible-i", "conflicts"),
        ("Staff contact police only with the person's explicit consent.", "incompatible-i", "meets"),
        ("The weather was fine and the meeting ended early.", "incompatible-i", "not_addressed"),
    ],
)
def test_audit_sentence_verdicts(text: str, criterion: str, verdict: str, nlp_en) -> None:
    result = audit(text, nlp=nlp_en)
    got = {c.id: c for c in result.criteria}[criterion]
    assert got.verdict == verdict
    if verdict != "not_addressed":
        assert got.evidence[0].sentence.strip() in text
        assert text[got.evidence[0].start : got.evidence[0].end] == got.evidence[0].sentence


@pytest.mark.parametrize(
    ("text", "overall"),
    [
        ("The programme is peer-led. Participants must attend weekly counselling.", "mixed"),
        ("The programme is peer-led and non-judgmental.", "compatible"),
        ("Participants must attend weekly counselling.", "conflicts"),
        ("The office opens at nine.", "not_addressed"),
    ],
)
def test_audit_overall_rule(text: str, overall: str, nlp_en) -> None:
    assert audit(text, nlp=nlp_en).overall == overall


@pytest.mark.parametrize("case", ["call_mixed"])
def test_audit_to_dict_keys_and_json(case: str, nlp_en) -> None:
    result = audit(DATA / f"{case}.txt", nlp=nlp_en)
    d = json.loads(result.to_json())
    assert set(d) >= {"overall", "criteria"}
    assert len(d["criteria"]) == 16
    assert {c["kind"] for c in d["criteria"]} == {"core", "incompatible"}
    for c in d["criteria"]:
        assert set(c) >= {"id", "kind", "text", "verdict", "evidence"}
        assert c["source"].startswith("§5")


@pytest.mark.parametrize("payload", ["<script>alert(1)</script> Participants must exit the sex trade."])
def test_audit_html_is_escaped(payload: str, nlp_en) -> None:
    html = audit(payload, nlp=nlp_en).to_html()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    md = audit(payload, nlp=nlp_en).to_markdown()
    assert "**Overall: conflicts**" in md


@pytest.mark.parametrize("count", [8])
def test_audit_rubric_has_eight_of_each_kind_with_sources(count: int) -> None:
    rubric = read_rubric()
    kinds = [c.kind for c in rubric.criteria]
    assert kinds.count("core") == count and kinds.count("incompatible") == count
    assert all(c.source.startswith("§5") for c in rubric.criteria)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("criteria:\n  - {id: x, kind: other, text: t, source: s}\n", "kind must be core or incompatible"),
        ("criteria:\n  - {id: x, kind: core, text: t, source: s, colour: red}\n", "unknown keys ['colour']"),
        ("criteria: []\n", "no criteria"),
    ],
)
def test_audit_rubric_errors(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(LexiconError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_rubric(path)


@pytest.mark.parametrize("text", ["   \n"])
def test_audit_empty_text_is_an_error(text: str, nlp_en) -> None:
    with pytest.raises(ConfigError, match="the text is empty"):
        audit(text, nlp=nlp_en)
