"""Span evaluation: gold loading, one-to-one matching, per-category and flag scores."""

from __future__ import annotations

import json

import pytest

from hrdiscourse.errors import ConfigError, IngestError
from hrdiscourse.evaluation import (
    CATEGORIES,
    COOPTING_CATEGORIES,
    FLAGS,
    evaluate_spans,
    gold_category,
    load_span_gold,
    match_spans,
    span_errors,
)

SAMPLE = "tests/data/nlp/spans_sample.jsonl"


@pytest.fixture(scope="module")
def fast_nlp():
    from hrdiscourse.nlp.pipeline import load_pipeline

    return load_pipeline(mode="fast")


@pytest.mark.parametrize(
    "split, ids", [("dev", ["t-1", "t-2", "t-3"]), ("test", ["t-4"]), (None, ["t-1", "t-2", "t-3", "t-4"])]
)
def test_evaluation_load_span_gold_filters_split(repo_root, split, ids):
    items = load_span_gold(repo_root / SAMPLE, split=split)
    assert [it["id"] for it in items] == ids


@pytest.mark.parametrize("split", ["dev"])
def test_evaluation_load_span_gold_computes_offsets(repo_root, split):
    item = load_span_gold(repo_root / SAMPLE, split=split)[0]
    for span in item["spans"]:
        assert item["text"][span["start"] : span["end"]] == span["text"]


@pytest.mark.parametrize("occurrence, start", [(1, 0), (2, 43)])
def test_evaluation_load_span_gold_counts_occurrences(tmp_path, occurrence, start):
    text = "Police said the harm reduction site opens; police will not attend."
    assert text[start:].lower().startswith("police")
    path = tmp_path / "g.jsonl"
    span = {"text": "olice", "occurrence": occurrence, "category": "law_enforcement"}
    path.write_text(json.dumps({"id": "x", "split": "dev", "text": text, "spans": [span]}) + "\n")
    assert load_span_gold(path)[0]["spans"][0]["start"] == start + 1


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 1: not valid JSON"),
        (json.dumps({"id": "x", "split": "dev"}), "line 1: field 'text' or 'split' is missing"),
        (
            json.dumps(
                {"id": "x", "split": "dev", "text": "abc", "spans": [{"text": "zzz", "category": "aligned"}]}
            ),
            "line 1: span #0 'zzz' (occurrence 1) is not in the item's text",
        ),
    ],
)
def test_evaluation_load_span_gold_errors_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(IngestError, match="bad.jsonl") as info:
        load_span_gold(path)
    assert message in str(info.value)


@pytest.mark.parametrize("split", ["train"])
def test_evaluation_unknown_split_is_rejected(repo_root, split):
    with pytest.raises(ConfigError, match="split 'train'"):
        load_span_gold(repo_root / SAMPLE, split=split)


@pytest.mark.parametrize(
    "label, category",
    [
        ("EXIT_ABSTINENCE", "exit_abstinence"),
        ("EXTENSION_CLIMATE", "extension"),
        ("ALIGNED_DECRIM", "aligned"),
    ],
)
def test_evaluation_gold_category_maps_labels(label, category):
    assert gold_category(label) == category


@pytest.mark.parametrize(
    "strict, pairs",
    [(False, [(0, 1)]), (True, [])],
)
def test_evaluation_match_spans_one_to_one(strict, pairs):
    gold = [{"start": 0, "end": 10, "category": "law_enforcement"}]
    pred = [
        {"start": 0, "end": 3, "category": "law_enforcement"},
        {"start": 2, "end": 9, "category": "law_enforcement"},
        {"start": 0, "end": 10, "category": "aligned"},
    ]
    assert match_spans(gold, pred, strict=strict) == pairs


@pytest.mark.parametrize("split", ["dev"])
def test_evaluation_evaluate_spans_scores_sample(fast_nlp, repo_root, split):
    df = evaluate_spans(fast_nlp, repo_root / SAMPLE, split=split)
    assert set(df.columns) >= {"level", "name", "match", "precision", "recall", "f1", "support"}
    assert set(df[df.level == "category"].name) == set(CATEGORIES)
    assert set(df[df.level == "flag"].name) == set(FLAGS)
    row = df[(df.name == "exit_abstinence") & (df.match == "lenient")].iloc[0]
    assert (row.tp, row.fp, row.fn, row.support) == (2, 0, 0, 2)
    coop = df[(df.name == "coopting") & (df.match == "lenient")].iloc[0]
    assert coop.f1 == 1.0
    negated = df[df.name == "negated"].iloc[0]
    assert (negated.tp, negated.fp, negated.fn) == (2, 0, 0)
    assert len(COOPTING_CATEGORIES) == 13


@pytest.mark.parametrize("split", ["dev"])
def test_evaluation_span_errors_lists_false_positives(fast_nlp, tmp_path, split):
    path = tmp_path / "g.jsonl"
    item = {"id": "x", "split": split, "text": "Police patrol the harm reduction site.", "spans": []}
    path.write_text(json.dumps(item) + "\n")
    errors = span_errors(fast_nlp, path, split=split)
    assert set(errors.kind) == {"fp"}
    assert set(errors.text) == {"Police", "harm reduction"}
