"""Tests of document labels (hrdiscourse.classify) on hand-made analysed documents."""

from __future__ import annotations

import json
import random
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from hrdiscourse import classify
from hrdiscourse.errors import ConfigError, HRDiscourseWarning, ModelError
from hrdiscourse.types import LABELS


def _span(i: int, text: str, sentence: str, sent_start: int, **kw: Any) -> dict[str, Any]:
    start = sent_start + sentence.find(text)
    base = {
        "id": f"{kw.pop('prefix', 'm')}{i}",
        "start": start,
        "end": start + len(text),
        "text": text,
        "sentence": sentence,
        "sent_start": sent_start,
        "sent_index": kw.pop("sent_index", 0),
        "negated": False,
        "hedged": False,
        "quoted": False,
        "critical": False,
        "speaker": None,
    }
    base.update(kw)
    return base


def make_result(
    sentences: list[str],
    mentions: list[tuple[int, str, dict[str, Any]]],
    signals: list[tuple[int, str, str, str, dict[str, Any]]],
    links: list[tuple[int, int, str]],
    doc_type: str = "news",
) -> dict[str, Any]:
    """An analysed document: mentions (sent, text, flags), signals (sent, text, kind, category, flags)."""
    text = " ".join(sentences)
    starts = [sum(len(s) + 1 for s in sentences[:k]) for k in range(len(sentences))]
    hr = [
        _span(i, t, sentences[k], starts[k], sent_index=k, label="HARM_REDUCTION", entry_id="hr-001", **flags)
        for i, (k, t, flags) in enumerate(mentions)
    ]
    sig = [
        _span(i, t, sentences[k], starts[k], sent_index=k, prefix="s", kind=kind, category=cat, **flags)
        for i, (k, t, kind, cat, flags) in enumerate(signals)
    ]
    lk = [{"mention": f"m{m}", "signal": f"s{s}", "strength": st, "sent_distance": 0} for m, s, st in links]
    return {"text": text, "doc_type": doc_type, "hr_mentions": hr, "signals": sig, "links": lk}


CASES: dict[str, dict[str, Any]] = {
    "none": make_result(
        ["The fund helps women at risk exit the sex trade.", "Police welcomed it."],
        [],
        [
            (0, "exit the sex trade", "coopting", "exit_abstinence", {}),
            (1, "Police", "coopting", "law_enforcement", {}),
        ],
        [],
    ),
    "coopted": make_result(
        ["The exit program is part of a harm reduction approach.", "Women learn new skills."],
        [(0, "harm reduction", {})],
        [(0, "exit program", "coopting", "exit_abstinence", {})],
        [(0, 0, "direct")],
    ),
    "copresent": make_result(
        [
            "The centre has a harm reduction committee.",
            "It opened in May.",
            "Staff meet weekly.",
            "Lunch is free.",
            "It helps women exit the sex trade.",
        ],
        [(0, "harm reduction", {})],
        [(4, "exit the sex trade", "coopting", "exit_abstinence", {})],
        [(0, 0, "document")],
    ),
    "aligned": make_result(
        ["The peer-led harm reduction program does not require participants to exit sex work."],
        [(0, "harm reduction", {})],
        [
            (0, "exit sex work", "coopting", "exit_abstinence", {"negated": True}),
            (0, "peer-led", "aligned", "aligned_peer", {}),
        ],
        [(0, 0, "sentence"), (0, 1, "direct")],
    ),
    "critical": make_result(
        ["Exit programs are incompatible with harm reduction.", "They co-opt its language."],
        [(0, "harm reduction", {"critical": True})],
        [(0, "Exit programs", "coopting", "exit_abstinence", {"critical": True})],
        [(0, 0, "sentence")],
        doc_type="ngo",
    ),
    "extension": make_result(
        ["A carbon tax is a harm reduction strategy for climate change."],
        [(0, "harm reduction", {})],
        [(0, "carbon tax", "extension", "extension_climate", {})],
        [(0, 0, "direct")],
    ),
    "opposed": make_result(
        ["This is not harm reduction; it keeps people in addiction.", "We need recovery and abstinence."],
        [(0, "harm reduction", {"negated": True})],
        [(1, "abstinence", "coopting", "exit_abstinence", {})],
        [(0, 0, "nearby")],
    ),
}


@pytest.mark.parametrize("label", list(CASES))
def test_classify_rule_label_cases(label: str) -> None:
    outcome = classify.rule_label(CASES[label])
    assert outcome.label == label
    assert outcome.rule == label
    assert set(outcome.scores) == set(LABELS)
    assert max(outcome.scores, key=outcome.scores.get) == label
    assert outcome.evidence


@pytest.mark.parametrize("label", list(CASES))
def test_classify_label_document_rules_contract(label: str) -> None:
    result = CASES[label]
    out = classify.label_document(result, strategy="rules")
    assert out["label"] == label
    assert set(out["label_scores"]) == set(LABELS)
    assert out["evidence"], "evidence is never empty"
    for ev in out["evidence"]:
        assert set(ev) == {"sentence", "start", "end", "reason", "weight"}
        if label != "none":
            assert result["text"][ev["start"] : ev["end"]] == ev["sentence"]
    if label == "none":
        assert out["evidence"][0]["sentence"] == "no harm-reduction framing found"


@pytest.mark.parametrize(
    ("label", "feature", "value"),
    [
        ("none", "hr_any", None),
        ("coopted", "coop_active_direct", pytest.approx(0.6931, abs=1e-3)),
        ("copresent", "coop_active_document", pytest.approx(0.6931, abs=1e-3)),
        ("aligned", "coop_negated_frac", 1.0),
        ("critical", "hr_critical_frac", 1.0),
        ("extension", "ext_near", pytest.approx(0.6931, abs=1e-3)),
        ("opposed", "hr_negated_frac", 1.0),
        ("critical", "doc_type=ngo", 1.0),
    ],
)
def test_classify_featurize_values(label: str, feature: str, value: Any) -> None:
    feats = classify.featurize(CASES[label])
    assert feats.get(feature) == value


@pytest.mark.parametrize("label", ["coopted", "copresent"])
def test_classify_hr_context_holds_mention_sentences(label: str) -> None:
    ctx = classify.hr_context(CASES[label])
    assert "harm reduction" in ctx
    # a document-distance signal's sentence is not part of the HR context
    assert ("exit the sex trade" in ctx) is (label == "coopted" and "exit the sex trade" in ctx)
    if label == "copresent":
        assert "exit the sex trade" not in ctx


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Police will help women exit. Harm reduction matters.", "coopted"),
        ("A harm reduction program with peer workers.", "aligned"),
        ("Police will help women exit.", "none"),
    ],
)
def test_classify_baseline(text: str, label: str) -> None:
    assert classify.baseline_label({"text": text}) == label


@pytest.fixture(scope="module")
def toy_model() -> classify.LabelModel:
    results = [r for r in CASES.values() for _ in range(3)]
    labels = [lab for lab in CASES for _ in range(3)]
    return classify.train(results, labels, rule_features=True)


@pytest.mark.parametrize("strategy", ["model", "model_rulefeats", "hybrid"])
def test_classify_model_fits_and_explains(toy_model: classify.LabelModel, strategy: str) -> None:
    out = classify.label_document(CASES["coopted"], model=toy_model, strategy=strategy)
    assert out["label"] == "coopted"
    assert abs(sum(out["label_scores"].values()) - 1.0) < 1e-3
    assert any(ev["reason"].startswith("model feature") for ev in out["evidence"])


@pytest.mark.parametrize("strategy", ["hybrid"])
def test_classify_hybrid_keeps_rule_none(toy_model: classify.LabelModel, strategy: str) -> None:
    out = classify.label_document(CASES["none"], model=toy_model, strategy=strategy)
    assert out["label"] == "none"
    assert out["evidence"][0]["sentence"] == "no harm-reduction framing found"


@pytest.mark.parametrize("mismatch", ["sklearn", "model_version"])
def test_classify_model_roundtrip_and_version_warning(
    toy_model: classify.LabelModel, tmp_path: Path, mismatch: str
) -> None:
    path = tmp_path / "label_model.skops"
    written = classify.save_model(toy_model, path)
    assert [p.suffix for p in written] == [".skops", ".json"]
    assert not path.read_bytes().startswith(b"\x80"), "skops zip, not a pickle"
    with warnings.catch_warnings():
        warnings.simplefilter("error", HRDiscourseWarning)
        loaded = classify.load_model(path)
    assert loaded.predict_proba([CASES["coopted"]]) == toy_model.predict_proba([CASES["coopted"]])
    meta = json.loads(path.with_suffix(".json").read_text())
    meta[mismatch] = "0.0.0"
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.warns(HRDiscourseWarning, match="hrdiscourse train"):
        classify.load_model(path)


@pytest.mark.parametrize("name", ["missing.skops"])
def test_classify_load_model_missing(tmp_path: Path, name: str) -> None:
    with pytest.raises(ModelError, match="run `hrdiscourse train`"):
        classify.load_model(tmp_path / name)


@pytest.mark.parametrize(
    ("labels", "message"), [(["coopted"], "fewer than two labels"), (["bogus", "none"], "unknown")]
)
def test_classify_train_rejects_bad_labels(labels: list[str], message: str) -> None:
    results = [CASES["coopted"]] * len(labels)
    with pytest.raises(ConfigError, match=message):
        classify.train(results, labels)


@pytest.mark.parametrize("system", ["baseline", "rules", "model", "combined"])
def test_classify_evaluate_tables(toy_model: classify.LabelModel, system: str) -> None:
    results = list(CASES.values())
    scores = classify.evaluate(results, list(CASES), model=toy_model)
    s = scores[system]
    assert list(s.per_label.columns) == ["precision", "recall", "f1", "support"]
    assert list(s.confusion.index) == list(LABELS)
    assert int(s.confusion.values.sum()) == len(results)
    if system == "rules":
        assert s.macro_f1 == 1.0


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("label: bogus\nsplit: train\n", "expected one of"),
        ("label: none\nsplit: dev\n", "expected train or test"),
    ],
)
def test_classify_load_gold_documents_errors(tmp_path: Path, front: str, message: str) -> None:
    (tmp_path / "gold-x-001.txt").write_text(f"---\n{front}---\nText.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        classify.load_gold_documents(tmp_path)


@pytest.mark.parametrize("split", ["train", "test"])
def test_classify_load_gold_documents_split(tmp_path: Path, split: str) -> None:
    for i, sp in enumerate(["train", "test", "train"]):
        (tmp_path / f"gold-none-00{i}.txt").write_text(
            f"---\nid: d{i}\nlabel: none\nsplit: {sp}\ndoc_type: news\n---\nBody {i}.\n", encoding="utf-8"
        )
    docs = classify.load_gold_documents(tmp_path, split=split)
    assert len(docs) == (2 if split == "train" else 1)
    assert all(d.text.startswith("Body") and d.doc_type == "news" for d in docs)


def _result(*, negated: bool = False, hedged: bool = False, strength: str = "direct") -> dict[str, Any]:
    return {
        "hr_mentions": [{"id": "m0", "negated": False, "hedged": hedged}],
        "signals": [{"id": "s0", "kind": "coopting", "negated": negated, "critical": False}],
        "links": [{"mention": "m0", "signal": "s0", "strength": strength}],
    }


@pytest.mark.parametrize(
    ("result", "ruled_out", "admitted"),
    [
        # an exit signal framed directly as harm reduction: neither aligned nor opposed
        (_result(), {"none", "extension", "aligned", "opposed"}, {"coopted", "copresent"}),
        # the frame hedged ("so-called harm reduction"): aligned and opposed stay possible
        (_result(hedged=True), {"none", "extension"}, {"aligned", "opposed", "coopted"}),
        # only in the same sentence, not syntactically framed: aligned stays possible
        (_result(strength="sentence"), {"none", "extension"}, {"aligned", "opposed", "coopted"}),
        # a negated signal ("does not require anyone to exit"): no co-opting label
        (_result(negated=True), {"none", "coopted", "copresent"}, {"aligned", "opposed"}),
    ],
)
def test_classify_inadmissible_labels(
    result: dict[str, Any], ruled_out: set[str], admitted: set[str]
) -> None:
    out = classify._inadmissible(result)
    assert ruled_out <= out
    assert not admitted & out


def _spans(pattern: Any, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    "source",
    [
        "abc|xy|abd|a",
        "ab|a|abc|b",
        "ab|(?:a|x)y|ac|xd",  # a non-literal alternative that may start like the ones after it
        r"ab|\bac|ad|bd",  # one whose first characters are unknown
        "[ab]c|ad|bd|cd",
        "a?b|ab|ac|bb",
        "a|ab|a[bc]d|b|bc",
    ],
)
def test_classify_grouped_branches_find_the_same_matches(source: str) -> None:
    pattern = re.compile(source)
    grouped = classify._grouped_branches(pattern)
    rng = random.Random(source)
    for _ in range(3000):
        text = "".join(rng.choice("abcdxy ") for _ in range(rng.randint(0, 30)))
        assert _spans(grouped, text) == _spans(pattern, text), (grouped.pattern, text)


@pytest.mark.parametrize("name", ["_CRITICAL_CUES", "_OPPOSED_CUES", "_CONTEXT_CUES"])
def test_classify_folded_cue_patterns_are_grouped_and_find_the_same_matches(name: str) -> None:
    original = getattr(classify, name)
    folded = classify._folded_pattern(original)
    plain = re.compile(classify._fold_text(original.pattern) or "", original.flags & ~re.I)
    assert folded is not None and folded.pattern != plain.pattern  # the grouping applies
    # texts of the cue phrases, cut, run together and partly upper-cased, so that matches
    # overlap and nearly match
    phrases = [p for p in re.split(r"[|()?:\\]+", original.pattern) if p]
    rng = random.Random(name)
    texts = [case["text"] for case in CASES.values()]
    for _ in range(500):
        text = "".join(
            rng.choice(phrases)[rng.randint(0, 2) :] + rng.choice(["", " ", "s ", "-", "e"])
            for _ in range(20)
        )
        texts.append("".join(c.upper() if rng.random() < 0.2 else c for c in text))
    for text in texts:
        folded_text = classify._fold_text(text)
        assert folded_text is not None
        assert _spans(folded, folded_text) == _spans(plain, folded_text) == _spans(original, text)


@pytest.mark.parametrize("source", ["a|b", "(a)b|ac", "ab|ab(?:c)", "(?:ab|ac)"])
def test_classify_grouped_branches_leave_other_patterns(source: str) -> None:
    pattern = re.compile(source)
    grouped = classify._grouped_branches(pattern)
    assert grouped is pattern


def test_classify_transform_with_features_given_equals_plain(toy_model: classify.LabelModel) -> None:
    results = list(CASES.values())
    outcomes = [classify.rule_label(r) for r in results]
    feats = [classify.featurize(r) for r in results]
    plain = toy_model.transform(results, outcomes)
    given = toy_model.transform(results, outcomes, feats)
    assert (plain != given).nnz == 0
    assert feats == [classify.featurize(r) for r in results]  # not changed in place
    assert classify.label_documents(results, model=toy_model) == [
        classify.label_document(r, model=toy_model) for r in results
    ]


def test_classify_top_features_are_the_positive_products(toy_model: classify.LabelModel) -> None:
    names = toy_model._feature_names
    coef = toy_model.pipeline.named_steps["clf"].coef_
    for result in CASES.values():
        x = toy_model.transform([result]).tocsr()[0]
        for label in toy_model._classes:
            row = coef[toy_model._classes.index(label)] if coef.shape[0] > 1 else coef[0]
            plain = [(names[j], float(v * row[j])) for j, v in zip(x.indices, x.data, strict=True)]
            expected = sorted([c for c in plain if c[1] > 0], key=lambda c: -c[1])[:5]
            assert toy_model.top_features(result, label) == expected
