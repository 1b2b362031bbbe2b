"""The anchored matcher finds exactly what spaCy's Matcher finds with the same patterns."""

from __future__ import annotations

import json
import random

import pytest
import spacy
from spacy.matcher import Matcher
from spacy.pipeline.span_ruler import SpanRuler

from hrdiscourse.nlp.matching import AnchoredMatcher, forget_columns, token_columns

SEED = "corpora/sample/seed-report.md"  # the seed report, shipped with its citation

#: Hand-made patterns for the shapes the lexicons use: optional and repeated tokens after
#: the anchor, bounded repeats, a negated token, lemmas, and a one-token pattern.
EDGE_PATTERNS = {
    "star": [{"LOWER": "help"}, {"LOWER": {"IN": ["the", "more", "young"]}, "OP": "*"}, {"LOWER": "women"}],
    "plus_tail": [
        {"LOWER": "exit"},
        {"LOWER": "the", "OP": "+"},
        {"LOWER": "trade"},
        {"LOWER": "now", "OP": "?"},
    ],
    "star_tail": [{"LOWER": "police"}, {"LOWER": "raids"}, {"IS_ALPHA": True, "OP": "*"}],
    "bounded": [{"LOWER": "leave"}, {"IS_ALPHA": True, "OP": "{0,3}"}, {"LEMMA": "trade"}],
    "negated": [{"LOWER": "no"}, {"LOWER": "police", "OP": "!"}, {"LOWER": "raids"}],
    "lemma": [{"LOWER": "women"}, {"LEMMA": "be", "OP": "?"}, {"LEMMA": "rescue"}],
    "one": [{"LOWER": "rescue"}],
    "open_first": [{"LOWER": "sex", "OP": "?"}, {"LOWER": "workers"}, {"IS_ALPHA": True, "OP": "{1,2}"}],
    # optional plain tokens: compared in Python as their fixed variants
    "optional": [
        {"LOWER": "sex"},
        {"ORTH": "-", "OP": "?"},
        {"LOWER": {"IN": ["work", "workers"]}},
        {"LOWER": "rights", "OP": "?"},
    ],
    "optional_twice": [{"LOWER": "more"}, {"LOWER": "more", "OP": "?"}, {"LOWER": "more"}],
    "optional_end": [{"LOWER": "police"}, {"ORTH": {"IN": ["raids", "Raids"]}, "OP": "?"}],
}
EDGE_TEXTS = [
    "We help the young women and help more more women; help women.",
    "They exit the the trade now, or exit the trade, or exit trade.",
    "Police raids continued for weeks and police raids were everywhere.",
    "She wanted to leave the sex trade and leave it; to leave trades behind.",
    "There were no raids, no police raids, and no other raids at all.",
    "Women were rescued; women rescue women; the rescue came.",
    "Sex workers organise and workers unite while sex workers speak out.",
    "Sex-work rights, sex work, sex - workers rights and sex rights.",
    "We help more more more women, and more more, and more.",
]


def _both(vocab, patterns: dict[str, list[list[dict]]]) -> tuple[Matcher, AnchoredMatcher]:
    plain, anchored = Matcher(vocab), AnchoredMatcher(vocab)
    for key, pats in patterns.items():
        plain.add(key, pats)
        anchored.add(key, pats)
    return plain, anchored


def _lexicon_patterns(nlp) -> dict[str, list[list[dict]]]:
    patterns: dict[str, list[list[dict]]] = {}
    for name in ("hrd_mention_ruler", "hrd_signal_ruler"):
        for p in nlp.get_pipe(name).patterns:
            if not isinstance(p["pattern"], str):
                patterns.setdefault(repr((p["label"], p.get("id", ""))), []).append(p["pattern"])
    return patterns


@pytest.mark.slow
def test_anchored_matcher_equals_matcher_on_edge_patterns(nlp_en):
    # nlp_en sets lemmas, which the LEMMA patterns need
    plain, anchored = _both(nlp_en.vocab, {k: [v] for k, v in EDGE_PATTERNS.items()})
    docs = [nlp_en(text) for text in EDGE_TEXTS]
    for doc in docs:
        assert sorted(anchored(doc)) == sorted(plain(doc)), doc.text
    # the texts must exercise every pattern at least once
    assert {nlp_en.vocab.strings[k] for doc in docs for k, _, _ in plain(doc)} == set(EDGE_PATTERNS)


@pytest.mark.slow
def test_anchored_matcher_equals_matcher_on_lexicons(nlp_fast, repo_root):
    plain, anchored = _both(nlp_fast.vocab, _lexicon_patterns(nlp_fast))
    texts = [(repo_root / SEED).read_text(encoding="utf-8")[:60_000]]
    for name in ("spans.jsonl", "spans_holdout.jsonl", "spans_holdout2.jsonl", "spans_holdout3.jsonl"):
        path = repo_root / "corpora" / "gold" / name
        items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts.append("\n\n".join(it["text"] for it in items))
    total = 0
    for text in texts:
        doc = nlp_fast(text)
        found = sorted(plain(doc))
        assert sorted(anchored(doc)) == found
        total += len(found)
    assert total > 500  # the comparison covers many real matches


@pytest.mark.slow
def test_anchored_matcher_equals_matcher_on_random_lexicon_text(nlp_fast):
    # Texts drawn from the lexicons' own words: dense in anchors, optional tokens present
    # or not, repeats, so that nearly every pattern path and pair filter runs.
    patterns = _lexicon_patterns(nlp_fast)
    plain, anchored = _both(nlp_fast.vocab, patterns)
    words = sorted(
        {
            value
            for pats in patterns.values()
            for pat in pats
            for token in pat
            for spec in token.values()
            for value in (spec["IN"] if isinstance(spec, dict) and "IN" in spec else [spec])
            if isinstance(value, str) and value.strip() and value not in {"?", "*", "+", "!"}
        }
    )
    rng = random.Random(6)
    found = 0
    for _ in range(12):
        text = " ".join(rng.choice(words) for _ in range(1000))
        doc = nlp_fast.make_doc(text)
        expected = sorted(plain(doc))
        assert sorted(anchored(doc)) == expected
        found += len(expected)
    assert found > 500


@pytest.mark.slow
def test_anchored_span_ruler_match_equals_span_ruler(nlp_fast, repo_root):
    text = (repo_root / SEED).read_text(encoding="utf-8")[:30_000]
    doc = nlp_fast.make_doc(text)
    for name in ("hrd_mention_ruler", "hrd_signal_ruler"):
        ruler = nlp_fast.get_pipe(name)
        fast = ruler.match(doc)
        plain = SpanRuler.match(ruler, doc)  # spaCy's own: its Matcher holds the same patterns
        assert len(plain) > 20
        assert fast == plain
        assert [(s.start, s.end, s.label_, s.id_) for s in fast] == [
            (s.start, s.end, s.label_, s.id_) for s in plain
        ]


def test_token_columns_are_read_once_per_doc():
    nlp = spacy.blank("en")
    doc = nlp("Harm reduction saves lives. Harm Reduction works.")
    words = token_columns(doc)
    assert token_columns(doc) is words
    assert words.lowers == [t.lower for t in doc]
    assert words.orths == [t.orth for t in doc]
    with doc.retokenize() as retokenizer:
        retokenizer.merge(doc[0:2])
    merged = token_columns(doc)  # a new token count: read again
    assert merged is not words and merged.lowers == [t.lower for t in doc]
    forget_columns(doc)
    assert token_columns(doc) is not merged
