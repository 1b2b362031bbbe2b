"""The passage stance model behind ``hrd_critical`` and the ATTRIBUTION hedges of hrd_context."""

from __future__ import annotations

import json

import pytest
import spacy

from hrdiscourse.nlp import factories
from hrdiscourse.nlp.pipeline import add_hrd_pipes
from hrdiscourse.nlp.stance import (
    STANCE_PATH,
    StanceModel,
    coarse_category,
    load_stance_model,
    stance_rows,
    stance_units,
)

CRITICAL = [
    "An exit fund relabelled as harm reduction is still an exit fund.",
    'Reminder: a "harm reduction" program that shares client names with police is a police program. '
    "Full stop.",
]
NOT_CRITICAL = [
    "The ministry said the grant will expand a harm-reduction program that helps women exit the sex trade.",
    "Officers will now carry naloxone as part of the service's harm reduction strategy.",
]


@pytest.fixture(scope="module")
def blank_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return add_hrd_pipes(nlp)


def _flags(doc, flag="critical"):
    key = ("hrd_mentions", "hrd_signals")
    return [(s.text, getattr(s._, f"hrd_{flag}")) for k in key for s in doc.spans[k]]


def test_stance_shipped_model_and_sidecar():
    model = load_stance_model()
    meta = json.loads(STANCE_PATH.with_suffix(".json").read_text())
    assert model.meta == meta
    assert {"threshold", "combine", "aligned", "C", "cv_critical_f1", "training_data_sha256"} <= set(meta)
    assert 0.0 < model.threshold < 1.0


def test_stance_is_loaded_for_english_only(blank_nlp):
    assert blank_nlp.get_pipe("hrd_context").stance is not None
    fr = spacy.blank("fr")
    fr.add_pipe("sentencizer")
    add_hrd_pipes(fr, language="fr")
    assert fr.get_pipe("hrd_context").stance is None


@pytest.mark.parametrize("text", CRITICAL)
def test_stance_marks_critical_passages(blank_nlp, text):
    doc = blank_nlp(text)
    mentions = list(doc.spans["hrd_mentions"])
    assert mentions and all(m._.hrd_critical for m in mentions), _flags(doc)


@pytest.mark.parametrize("text", NOT_CRITICAL)
def test_stance_leaves_approving_passages_alone(blank_nlp, text):
    doc = blank_nlp(text)
    assert not any(flag for _, flag in _flags(doc)), _flags(doc)


def test_stance_skips_documents_without_a_mention(blank_nlp):
    context = blank_nlp.get_pipe("hrd_context")
    text = "Police will arrest traffickers and rescue victims, the minister said."
    with_model = _flags(blank_nlp(text))
    saved, context.stance = context.stance, None
    try:
        assert _flags(blank_nlp(text)) == with_model
    finally:
        context.stance = saved


def test_stance_units_ignore_the_parser():
    nlp = spacy.blank("en")
    doc = nlp("First sentence here. Second one! And a third")
    assert stance_units(doc) == [(0, 4), (4, 7), (7, 10)]
    assert stance_units(nlp("")) == []


def test_stance_rows_are_one_per_unit_with_a_span(blank_nlp):
    doc = blank_nlp("Nothing here. Police said harm reduction includes exit programs. Weather was fine.")
    context = blank_nlp.get_pipe("hrd_context")
    targets = list(doc.spans["hrd_mentions"]) + list(doc.spans["hrd_signals"])
    built = stance_rows(doc, stance_units(doc), targets, context._match_cues(doc))
    assert built.units == [1] and set(built.unit_of_span) == {1}
    sent, ctx, abstract, cues = built.rows[0]
    assert "harm reduction" in sent and "Nothing here." in ctx and "__hr" in abstract
    assert "span_hr" in cues.split()


@pytest.mark.parametrize("text", CRITICAL + NOT_CRITICAL)
def test_stance_round_trips_to_disk_and_bytes(blank_nlp, tmp_path, text):
    blank_nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.get_pipe("hrd_context").stance is not None
    assert _flags(loaded(text)) == _flags(blank_nlp(text))
    context = blank_nlp.get_pipe("hrd_context")
    other = factories.make_context(blank_nlp, "copy", "hrd_mentions", "hrd_signals", 1)
    other.from_bytes(context.to_bytes())
    assert other.stance is not None and other.stance.meta == context.stance.meta


def test_stance_decide_combines_rules_and_model():
    orr = StanceModel(None, {"threshold": 0.5, "combine": "or", "aligned": "rule"})
    assert orr.decide("HARM_REDUCTION", True, 0.1) and orr.decide("POLICE", False, 0.6)
    assert not orr.decide("ALIGNED_AGENCY", False, 0.9)
    model = StanceModel(None, {"threshold": 0.5, "combine": "model", "aligned": "model"})
    assert not model.decide("HARM_REDUCTION", True, 0.1) and model.decide("ALIGNED_AGENCY", False, 0.9)


@pytest.mark.parametrize(
    "text, hedged",
    [
        (
            "The RCMP describes its human-trafficking awareness work in massage parlours as harm "
            "reduction. Workers describe it as harassment.",
            True,
        ),
        ("The vaping company describes its new device as harm reduction for adult smokers.", False),
    ],
)
def test_attribution_hedges_only_critical_mentions(blank_nlp, text, hedged):
    doc = blank_nlp(text)
    mention = doc.spans["hrd_mentions"][0]
    assert mention._.hrd_hedged is hedged and mention._.hrd_critical is hedged


@pytest.mark.slow
def test_stance_retraining_reproduces_the_shipped_model(tmp_path):
    from typer.testing import CliRunner

    from hrdiscourse.cli import app

    shipped = load_stance_model()
    out = tmp_path / "stance.skops"
    result = CliRunner().invoke(app, ["train", "--stance", "--no-cv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained the stance model on" in result.stdout
    model = load_stance_model(out)
    texts = CRITICAL + NOT_CRITICAL
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    add_hrd_pipes(nlp)
    context = nlp.get_pipe("hrd_context")
    rows = []
    for doc in nlp.pipe(texts):
        targets = list(doc.spans["hrd_mentions"]) + list(doc.spans["hrd_signals"])
        rows += stance_rows(doc, stance_units(doc), targets, context._match_cues(doc)).rows
    assert model.predict_proba(rows) == pytest.approx(shipped.predict_proba(rows), abs=0.05)
    assert (tmp_path / "stance.json").is_file()


def _gold_rows(repo_root, n=400):
    items = [
        json.loads(line)
        for name in ("spans.jsonl", "spans_holdout2.jsonl")
        for line in (repo_root / "corpora" / "gold" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][:n]
    odd = ["", "  Déjà   vu:\tthe “so-called”  harm-reduction\n\nprogram  ", "réduction des méfaits", "x"]
    texts = [it["text"] for it in items] + odd
    # the four columns: sentence, context, abstracted sentence, cue features
    return [
        [t, texts[i - 1], t.lower().replace("harm reduction", "__hr"), "NEGATION _none"]
        for i, t in enumerate(texts)
    ]


def test_stance_direct_features_equal_the_pipeline(repo_root, monkeypatch):
    import numpy as np

    from hrdiscourse.nlp import stance

    model = load_stance_model()
    rows = _gold_rows(repo_root)
    X = stance._as_array(rows)
    ct = model.pipeline.named_steps["features"]
    char_wb = [(t, col) for _, t, col in ct.transformers_ if getattr(t, "analyzer", None) == "char_wb"]
    assert char_wb, "the shipped stance model has a char_wb vectorizer"
    monkeypatch.setattr(stance, "CHAR_CACHE_WORDS", 50)  # evictions happen too
    for vec, col in char_wb:
        fast = stance._CharWbCounts(vec).transform(list(X[:, col]))
        slow = vec.transform(X[:, col])
        assert fast.shape == slow.shape
        assert np.array_equal(fast.indptr, slow.indptr) and np.array_equal(fast.indices, slow.indices)
        assert np.array_equal(fast.data, slow.data)  # the same floats, not just close ones
    pos = list(model.pipeline.classes_).index(1)
    assert model.predict_proba(rows) == [float(p[pos]) for p in model.pipeline.predict_proba(X)]
    assert model._direct is not None  # the direct path was the one used


@pytest.mark.parametrize(
    "text",
    [
        'Nothing  here.\n\nPolice said "harm reduction" includes exit programs. Weather was “fine”.\n'
        "Harm reduction, they say, is ‘care’.  Next one.",
        "Harm reduction.",
    ],
)
def test_stance_rows_read_the_same_text_as_the_tokens(blank_nlp, text):
    # stance_rows slices unit texts from the doc's text and reads token words by their hashes.
    doc = blank_nlp(text)
    context = blank_nlp.get_pipe("hrd_context")
    units = stance_units(doc)
    targets = list(doc.spans["hrd_mentions"]) + list(doc.spans["hrd_signals"])
    built = stance_rows(doc, units, targets, context._match_cues(doc))
    assert built.rows
    quotes = {'"', "“", "”", "‘", "’", "«", "»", "'"}
    for (sent, ctx, abstract, _), u in zip(built.rows, built.units, strict=True):
        a, b = units[u]
        assert sent == doc[a:b].text
        assert ctx == " ".join(
            doc[x:y].text for x, y in (units[v] for v in (u - 1, u + 1) if 0 <= v < len(units))
        )
        begin = {}
        for span in sorted(built_spans(targets, built, u), key=lambda s: (s.start, -len(s))):
            begin.setdefault(span.start, span)
        words, i = [], a
        while i < b:  # the abstract column as the tokens spell it
            if i in begin:
                words.append("__" + coarse_category(begin[i].label_))
                i = max(i + 1, begin[i].end)
            else:
                words.append('"' if doc[i].text in quotes else doc[i].lower_)
                i += 1
        assert abstract == " ".join(words)


def built_spans(targets, built, unit):
    return [s for s, u in zip(targets, built.unit_of_span, strict=True) if u == unit]
