"""The passage stance model behind ``hrd_critical`` and the ATTRIBUTION hedges of hrd_context."""

from __future__ import annotations

import json

import numpy as np
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


#: Cells that exercise the tokenizers: unicode words and spaces, punctuation, one-letter
#: words, repeated words and n-grams, empty and blank cells.
ODD = [
    "",
    " ",
    "x",
    "  Déjà   vu:\tthe “so-called”  harm-reduction\n\nprogram  ",
    "réduction des méfaits",
    "a b c d e f g a b c a b",
    "harm reduction harm reduction harm reduction, harm-reduction; HARM REDUCTION!",
    "don't won't it's U.S. e.g. 3.5% $20,000 -- x_y __hr __coopt __hr",
    "Straße İstanbul ΣΊΣΥΦΟΣ ǅemal ﬁnance naïve café",
    "tab\there\u00a0nbsp\u2028line\u3000ideographic\x1cfile sep\x85nel",
    "日本語のテキスト 中文 한국어 עברית العربية",
    "emoji 🙂🙂 and combining e\u0301 and zero\u200bwidth",
    "__hr __hr __hr __hr __coopt __aligned __ext __hr",
    "NEGATION NEGATION CRITICAL_strong _none span_hr hr_in_ctx",
]


def _gold_rows(repo_root, n=400):
    items = [
        json.loads(line)
        for name in ("spans.jsonl", "spans_holdout2.jsonl")
        for line in (repo_root / "corpora" / "gold" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][:n]
    texts = [it["text"] for it in items] + ODD
    # the four columns: sentence, context, abstracted sentence, cue features
    rows = [
        [t, texts[i - 1], t.lower().replace("harm reduction", "__hr"), "NEGATION _none"]
        for i, t in enumerate(texts)
    ]
    rows += [[t, t, t, t] for t in ODD]  # odd text in every column, the cue one too
    return rows


def _assert_same_matrix(fast, slow):
    assert fast.shape == slow.shape and fast.dtype == slow.dtype
    assert fast.indices.dtype == slow.indices.dtype and fast.indptr.dtype == slow.indptr.dtype
    assert np.array_equal(fast.indptr, slow.indptr) and np.array_equal(fast.indices, slow.indices)
    assert np.array_equal(fast.data, slow.data)  # the same floats, not just close ones


def _positive(pipeline, rows):
    from hrdiscourse.nlp.stance import _as_array

    pos = list(pipeline.classes_).index(1)
    return [float(p[pos]) for p in pipeline.predict_proba(_as_array(rows))]


def test_stance_direct_features_equal_the_pipeline(repo_root, monkeypatch):
    from hrdiscourse.nlp import stance

    model = load_stance_model()
    rows = _gold_rows(repo_root)
    ct = model.pipeline.named_steps["features"]
    analyzers = {getattr(t, "analyzer", None) for _, t, _ in ct.transformers_}
    assert analyzers == {"word", "char_wb"}, "the shipped model has word and char_wb vectorizers"
    monkeypatch.setattr(stance, "CHAR_CACHE_WORDS", 50)  # evictions happen too
    features = stance._StanceFeatures.from_pipeline(model.pipeline)
    assert features is not None
    for chunk in (rows, rows[:1], rows[-len(ODD) :], rows[::7]):
        _assert_same_matrix(features.transform(chunk), ct.transform(stance._as_array(chunk)))
    assert model.predict_proba(rows) == _positive(model.pipeline, rows)
    assert model._direct is not None and model._linear  # the direct path was the one used
    assert model.predict_proba([["", "", "", ""]]) == _positive(model.pipeline, [["", "", "", ""]])


def _fit(rows, vectorizers):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from hrdiscourse.nlp.stance import _as_array

    features = ColumnTransformer([(f"v{i}", vec, col) for i, (vec, col) in enumerate(vectorizers)])
    pipeline = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=500))])
    labels = [int("harm" in row[0].lower()) for row in rows]
    return pipeline.fit(_as_array(rows), labels)


def test_stance_direct_features_with_other_vectorizer_settings(repo_root):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from hrdiscourse.nlp import stance

    rows = _gold_rows(repo_root, n=150)
    pipeline = _fit(
        rows,
        [
            (TfidfVectorizer(ngram_range=(2, 3), binary=True, norm=None, use_idf=False), 0),
            (TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 4), smooth_idf=False), 2),
            (TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), lowercase=False, sublinear_tf=True), 1),
            (CountVectorizer(ngram_range=(1, 2)), 1),
            (CountVectorizer(token_pattern=r"\S+", binary=True, dtype=float), 3),
            (TfidfVectorizer(min_df=3, max_features=50, sublinear_tf=True, binary=True), 2),
        ],
    )
    features = stance._StanceFeatures.from_pipeline(pipeline)
    assert features is not None
    ct = pipeline.named_steps["features"]
    _assert_same_matrix(features.transform(rows), ct.transform(stance._as_array(rows)))
    model = stance.StanceModel(pipeline, {})
    assert model.predict_proba(rows) == _positive(pipeline, rows) and model._linear


@pytest.mark.parametrize(
    "vectorizer",
    [
        {"analyzer": "char"},
        {"stop_words": "english"},
        {"token_pattern": r"(?u)\b\w+\b"},
        {"strip_accents": "unicode"},
        {"norm": "l1"},
        {"dtype": np.float32},
    ],
)
def test_stance_unusual_vectorizers_use_the_pipeline(repo_root, vectorizer):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from hrdiscourse.nlp import stance

    rows = _gold_rows(repo_root, n=60)
    pipeline = _fit(rows, [(TfidfVectorizer(), 2), (TfidfVectorizer(**vectorizer), 0)])
    assert stance._StanceFeatures.from_pipeline(pipeline) is None
    model = stance.StanceModel(pipeline, {})
    assert model.predict_proba(rows) == _positive(pipeline, rows) and model._direct is None


def test_stance_tokenizer_shortcuts_find_what_the_patterns_find():
    import random
    import re

    from hrdiscourse.nlp.stance import _ASCII_WORDS

    # \S+ and str.split() split on the same characters, over all of Unicode
    every = "".join(map(chr, range(0x110000)))
    assert re.findall(r"\S+", every) == every.split()
    assert re.findall(r"\S+", " ".join(every)) == " ".join(every).split()
    # the default pattern on ASCII text: the maximal runs of 2+ word characters
    ascii_chars = "".join(map(chr, range(128)))
    rng = random.Random(7)
    texts = [ascii_chars, " ".join(ascii_chars)]
    texts += ["".join(rng.choices(ascii_chars + "ab_1  ", k=rng.randint(0, 40))) for _ in range(3000)]
    pattern = re.compile(r"(?u)\b\w\w+\b")
    for text in texts:
        words = [w for w in text.encode().translate(_ASCII_WORDS).decode().split() if len(w) > 1]
        assert words == pattern.findall(text), text


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
    for (sent, ctx, abstract, _), u in zip(built.rows, built.units, strict=True):
        a, b = units[u]
        assert sent == doc[a:b].text
        assert ctx == " ".join(
            doc[x:y].text for x, y in (units[v] for v in (u - 1, u + 1) if 0 <= v < len(units))
        )
        assert abstract == _abstract_reference(doc, a, b, built_spans(targets, built, u))


def built_spans(targets, built, unit):
    return [s for s, u in zip(targets, built.unit_of_span, strict=True) if u == unit]


def _abstract_reference(doc, a, b, spans):
    """The abstract column as the tokens spell it: the longest span starting at a token
    replaced by its category, tokens walked one by one."""
    quotes = {'"', "“", "”", "‘", "’", "«", "»", "'"}
    begin = {}
    for span in sorted(spans, key=lambda s: (s.start, -len(s))):
        begin.setdefault(span.start, span)
    words, i = [], a
    while i < b:
        if i in begin:
            words.append("__" + coarse_category(begin[i].label_))
            i = max(i + 1, begin[i].end)
        else:
            words.append('"' if doc[i].text in quotes else doc[i].lower_)
            i += 1
    return " ".join(words)


def test_stance_rows_replace_nested_and_overlapping_spans():
    from spacy.tokens import Span

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp('So-called "harm reduction" exit programs, police harm reduction units. Next one here. Last.')
    units = stance_units(doc)
    assert len(units) == 3
    spec = [  # (start, end, label): same starts, nested, overlapping, crossing into the next unit
        (3, 5, "HARM_REDUCTION"),
        (3, 7, "EXIT_PROGRAM"),
        (4, 6, "ALIGNED_AGENCY"),
        (6, 8, "EXTENSION_X"),
        (9, 12, "POLICE"),
        (10, 12, "HARM_REDUCTION"),
        (10, 12, "COOPT_OTHER"),
        (13, 16, "POLICE"),
        (16, 17, "HARM_REDUCTION"),
        (17, 19, "EXTENSION_X"),
        (19, 20, "HARM_REDUCTION"),
    ]
    targets = [Span(doc, s, e, label=label) for s, e, label in spec]
    built = stance_rows(doc, units, targets, [], flags=lambda span, name: name == "hrd_negated")
    assert built.units == [0, 1, 2]
    for (sent, _, abstract, cues), u in zip(built.rows, built.units, strict=True):
        a, b = units[u]
        in_unit = [s for s, v in zip(targets, built.unit_of_span, strict=True) if v == u]
        assert sent == doc[a:b].text and abstract == _abstract_reference(doc, a, b, in_unit)
        assert all(f"{coarse_category(s.label_)}_negated" in cues.split() for s in in_unit)
