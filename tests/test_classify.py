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


# --- fast paths compared with the plain computations ---------------------------------------

_WORDS = [
    "harm reduction",
    "drug",
    "recovery",
    "addiction",
    "co-opted",
    "so-called",
    "police",
    "exit",
    "HIV",
    "peer",
    "abstinence",
    "Drug-free",
    "naloxone",
    "programs",
    "récupération",
    "the",
    "women",
]


def _random_result(rng: random.Random) -> dict[str, Any]:
    """An analysed document with random spans, flags, categories and links (some to unknown
    ids or of unknown strength), for comparing the fast paths with the plain computations."""
    sentences = [" ".join(rng.sample(_WORDS, 5)) + "." for _ in range(rng.randint(1, 6))]

    def flags() -> dict[str, Any]:
        out: dict[str, Any] = {f: rng.random() < 0.25 for f in ("negated", "critical", "hedged", "quoted")}
        out["speaker"] = rng.choice([None, None, "Ann"])
        return out

    def word(k: int) -> str:
        return rng.choice([w for w in _WORDS if w in sentences[k]])

    mentions = [
        (k, word(k), flags()) for k in (rng.randrange(len(sentences)) for _ in range(rng.randint(0, 3)))
    ]
    signals = []
    for _ in range(rng.randint(0, 12)):
        k = rng.randrange(len(sentences))
        kind = rng.choice(["coopting", "coopting", "extension", "aligned", "other"])
        category = rng.choice(["exit_abstinence", "law_enforcement", "extension_climate", "aligned_peer"])
        signals.append((k, word(k), kind, category, flags()))
    strengths = [*classify.STRENGTHS, "unknown"]
    links = [
        (rng.randrange(max(len(mentions), 1)), rng.randrange(max(len(signals), 1) + 1), rng.choice(strengths))
        for _ in range(rng.randint(0, 2 * len(signals)))
    ]
    return make_result(sentences, mentions, signals, links, doc_type=rng.choice(["news", "ngo", ""]))


RANDOM_RESULTS = [_random_result(random.Random(seed)) for seed in range(300)]


def _plain_featurize(result: dict[str, Any]) -> dict[str, float]:
    """featurize as it was written before the one-pass version (the reference)."""
    import math
    from collections import Counter

    mentions = list(result.get("hr_mentions") or [])
    signals = list(result.get("signals") or [])
    strengths = classify._signal_strengths(result)
    text = str(result.get("text") or "")
    f: dict[str, float] = {}
    n_hr = len(mentions)
    f["hr_any"] = float(n_hr > 0)
    f["hr_n"] = math.log1p(n_hr)
    for flag in ("negated", "critical", "hedged", "quoted"):
        f[f"hr_{flag}_frac"] = classify._frac(sum(bool(m.get(flag)) for m in mentions), n_hr)
    f["hr_speaker_frac"] = classify._frac(sum(bool(m.get("speaker")) for m in mentions), n_hr)
    coop = [s for s in signals if s.get("kind") == "coopting"]
    ext = [s for s in signals if s.get("kind") == "extension"]
    aligned = [s for s in signals if s.get("kind") == "aligned"]
    f["coop_n"] = math.log1p(len(coop))
    f["ext_n"] = math.log1p(len(ext))
    f["aligned_n"] = math.log1p(len(aligned))
    for flag in ("negated", "critical", "hedged", "quoted"):
        f[f"coop_{flag}_frac"] = classify._frac(sum(bool(s.get(flag)) for s in coop), len(coop))
    by_strength: Counter[str] = Counter()
    by_cat: Counter[str] = Counter()
    for s in coop:
        strength = strengths.get(s["id"], "unlinked")
        if classify._is_active(s):
            by_strength[strength] += 1
            group = "near" if strength in classify.NEAR_STRENGTHS else "far"
            by_cat[f"{s.get('category', '')}_{group}"] += 1
        else:
            by_strength[f"inactive_{strength}"] += 1
    for key, n in by_strength.items():
        f[f"coop_active_{key}" if not key.startswith("inactive_") else f"coop_{key}"] = math.log1p(n)
    for key, n in by_cat.items():
        f[f"cat_{key}"] = math.log1p(n)
    near = classify.NEAR_STRENGTHS
    f["ext_near"] = math.log1p(sum(strengths.get(s["id"]) in near for s in ext))
    f["aligned_near"] = math.log1p(
        sum(strengths.get(s["id"]) in near and classify._is_active(s) for s in aligned)
    )
    f["coop_near"] = math.log1p(sum(strengths.get(s["id"]) in near and classify._is_active(s) for s in coop))
    f["ext_share"] = classify._frac(len(ext), len(signals))
    f["coop_share"] = classify._frac(len(coop), len(signals))
    f["speaker_present"] = float(any(x.get("speaker") for x in mentions + signals))
    f[f"doc_type={result.get('doc_type') or 'other'}"] = 1.0
    context = classify.hr_context(result)
    cues = (classify._CRITICAL_CUES, classify._OPPOSED_CUES, classify._CONTEXT_CUES)
    critical, opposed, ctx = (len(p.findall(text)) for p in cues)
    critical_c, opposed_c, ctx_c = (len(p.findall(context)) for p in cues)
    f["cue_critical"] = math.log1p(critical)
    f["cue_opposed_ctx"] = math.log1p(opposed_c)
    f["cue_opposed_doc"] = math.log1p(opposed)
    f["cue_critical_ctx"] = math.log1p(critical_c)
    f["cue_context_ctx"] = math.log1p(ctx_c)
    f["cue_context_doc"] = math.log1p(ctx)
    return {k: v for k, v in f.items() if v}


def test_classify_featurize_equals_plain_features_in_the_same_order() -> None:
    for result in [*CASES.values(), *RANDOM_RESULTS]:
        # the order matters: it is the order of the row's entries in the sparse matrix
        assert list(classify.featurize(result).items()) == list(_plain_featurize(result).items())


def test_classify_rule_signals_equal_the_plain_lists() -> None:
    for result in [*CASES.values(), *RANDOM_RESULTS]:
        signals = result["signals"]
        strengths = classify._signal_strengths(result)

        def near(s: dict[str, Any], strengths: dict[str, str] = strengths) -> bool:
            return strengths.get(s["id"]) in classify.NEAR_STRENGTHS

        coop = [s for s in signals if s.get("kind") == "coopting"]
        plain = (
            [s for s in coop if classify._is_active(s) and near(s)],
            [s for s in coop if classify._is_active(s) and not near(s)],
            [s for s in signals if s.get("kind") == "extension" and near(s)],
            [s for s in signals if s.get("kind") == "aligned" and near(s) and classify._is_active(s)],
            [s for s in coop if s.get("critical")],
        )
        assert classify._rule_signals(classify._Facts(result)) == plain


def test_classify_facts_hold_the_plain_strengths_and_context() -> None:
    for result in [*CASES.values(), *RANDOM_RESULTS]:
        facts = classify._Facts(result)
        assert facts.strengths == classify._signal_strengths(result)
        assert facts.context == classify.hr_context(result)


def _plain_fold(text: str) -> str:
    return "".join(chr(classify._fold_code(ord(c))) for c in text)


@pytest.mark.parametrize("seed", range(3))
def test_classify_fold_text_equals_the_plain_fold(seed: int) -> None:
    # ASCII, accented letters, dashes and quotes, and characters whose fold is special
    # (dotless and dotted i, long s, Kelvin sign, final sigma, micro sign, ligatures)
    alphabet = "aZk 1\n-éÉ—’ıİſKΣσςµßẞﬁ\u212a"
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        folded = classify._fold_text(text)
        assert (folded is None) == any(c in classify._FOLD_UNSAFE for c in text)
        if folded is not None:
            assert folded == _plain_fold(text)


def test_classify_opposed_cues_equal_their_grouped_phrasing() -> None:
    # one alternative per phrase instead of "(?:plutôt que|au lieu de) la réduction"
    source = classify._OPPOSED_CUES.pattern
    phrased = "plutôt que la réduction|au lieu de la réduction"
    assert phrased in source
    grouped = re.compile(source.replace(phrased, "(?:plutôt que|au lieu de) la réduction"), re.I)
    # every alternative starts with a letter: sre's first-character skip applies, no lookahead
    folded = classify._folded_pattern(classify._OPPOSED_CUES)
    assert folded is not None and not folded.pattern.startswith("(?=")
    rng = random.Random(0)
    pieces = ["plutôt que", "au lieu de", " la réduction", " la", "PLUTÔT QUE LA RÉDUCTION", "recovery", " "]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert _spans(classify._OPPOSED_CUES, text) == _spans(grouped, text)


def _cue_texts(sources: list[str], seed: int, n: int) -> list[str]:
    """Texts of the phrases of ``sources``, cut, run together and partly upper-cased, so that
    matches of all the patterns overlap and nearly match."""
    phrases = [p for source in sources for p in re.split(r"[|()?:\\\[\]]+", source) if p]
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        text = "".join(
            rng.choice(phrases)[rng.randint(0, 2) :] + rng.choice(["", " ", "s ", "-", "e", "é", "’"])
            for _ in range(rng.randint(1, 20))
        )
        texts.append("".join(c.upper() if rng.random() < 0.2 else c for c in text))
    return texts


def test_classify_cue_counts_equal_findall() -> None:
    assert classify._cue_scanner() is not None  # the one-scan path is the one taken
    cues = classify._CUES
    texts = [r["text"] for r in [*CASES.values(), *RANDOM_RESULTS]]
    texts += [classify.hr_context(r) for r in RANDOM_RESULTS]
    texts += _cue_texts([p.pattern for p in cues], 0, 3000)
    texts += ["İ " + t for t in texts[-50:]]  # not folded (dotted I): the plain counts
    for text in texts:
        assert classify._cue_counts(text) == tuple(len(p.findall(text)) for p in cues), text


@pytest.mark.parametrize(
    "sources",
    [
        ("ab|b[- ]c|ca", "bca|c|a b"),
        ("xa(?:b|c)?y|ay|by\\b", "y(?:a|b)+|xx|a-?b"),
        ("abab|ba|bb", "aa|bab|x[ab]x", "b a|a"),
        ("a\\-b|xyz|yx", "zz|z[xy]z|y a"),
    ],
)
def test_classify_scan_counts_equal_findall_on_overlapping_patterns(sources: tuple[str, ...]) -> None:
    patterns = [re.compile(s, re.I) for s in sources]
    scanner = classify._scanner(patterns)
    assert scanner is not None
    rng = random.Random(str(sources))
    for _ in range(5000):
        text = "".join(rng.choice("abxyzAB -") for _ in range(rng.randint(0, 30)))
        assert classify._scan_counts(scanner, patterns, text) == tuple(len(p.findall(text)) for p in patterns)


@pytest.mark.parametrize(
    ("branch", "start"),
    [
        ("keeps? (?:people|them)", ["k", "e", "e", "p"]),
        ("co-?opt(?:s|ed)?\\b", ["c", "o"]),
        ("n['’]est pas", ["n", None, "e", "s", "t", " ", "p", "a", "s"]),
        ("harm[- ]reduc", ["h", "a", "r", "m", None, "r", "e", "d", "u", "c"]),
        ("so\\-called", ["s", "o", "-", "c", "a", "l", "l", "e", "d"]),
        ("\\bexit", []),
        ("a[b-d]x", ["a"]),
        ("ab{2}", ["a"]),
        ("(?:ab|c)d", []),
    ],
)
def test_classify_fixed_start(branch: str, start: list[str | None]) -> None:
    assert [ch for _, ch in classify._fixed_start(branch)] == start


def test_classify_direct_rows_and_counts_are_the_fast_paths(toy_model: classify.LabelModel) -> None:
    direct = toy_model._direct
    assert direct is not None
    assert [type(transform.__self__) for _, transform in direct] == [classify._DictRows, classify._WordCounts]


@pytest.mark.parametrize("which", ["toy", "shipped"])
def test_classify_transform_equals_the_column_transformer(toy_model: classify.LabelModel, which: str) -> None:
    import numpy as np

    model = toy_model if which == "toy" else classify._shipped_model()
    if model is None:
        pytest.skip("no shipped label model")
    results = [*CASES.values(), *RANDOM_RESULTS]
    fast = model.transform(results)
    frame = classify._frame(results, with_rules=model.with_rules)
    plain = model.pipeline.named_steps["features"].transform(frame)
    assert type(fast) is type(plain) and fast.dtype == plain.dtype and fast.shape == plain.shape
    fast, plain = fast.tocsr(), plain.tocsr()
    assert np.array_equal(fast.indptr, plain.indptr) and np.array_equal(fast.indices, plain.indices)
    assert fast.data.tobytes() == plain.data.tobytes()  # the same floats, bit for bit
    # the probabilities: the pipeline's own, one float() per label
    classes = [str(c) for c in model.pipeline.classes_]
    expected = [
        {lab: float(row[classes.index(lab)]) if lab in classes else 0.0 for lab in LABELS}
        for row in model.pipeline.predict_proba(frame)
    ]
    assert model.predict_proba(results) == expected


def test_classify_top_features_of_batch_rows_equal_one_row_matrices(toy_model: classify.LabelModel) -> None:
    results = [*CASES.values(), *RANDOM_RESULTS[:60]]
    X = toy_model.transform(results).tocsr()
    for k, result in enumerate(results):
        a, b = X.indptr[k], X.indptr[k + 1]
        for label in [*toy_model._classes, "bogus"]:
            expected = toy_model.top_features(result, label, X=X[k : k + 1])
            assert toy_model._top_features(label, X.data[a:b], X.indices[a:b]) == expected


@pytest.mark.parametrize("strategy", ["hybrid", "model", "rules"])
def test_classify_label_documents_equal_one_document_at_a_time(
    toy_model: classify.LabelModel, strategy: str
) -> None:
    results = [*CASES.values(), *RANDOM_RESULTS[:80]]
    assert classify.label_documents(results, model=toy_model, strategy=strategy) == [
        classify.label_document(r, model=toy_model, strategy=strategy) for r in results
    ]
