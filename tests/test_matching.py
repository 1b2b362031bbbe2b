"""The anchored matcher finds exactly what spaCy's Matcher finds with the same patterns."""

from __future__ import annotations

import json

import pytest
from spacy.matcher import Matcher

from hrdiscourse.nlp.matching import AnchoredMatcher

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
}
EDGE_TEXTS = [
    "We help the young women and help more more women; help women.",
    "They exit the the trade now, or exit the trade, or exit trade.",
    "Police raids continued for weeks and police raids were everywhere.",
    "She wanted to leave the sex trade and leave it; to leave trades behind.",
    "There were no raids, no police raids, and no other raids at all.",
    "Women were rescued; women rescue women; the rescue came.",
    "Sex workers organise and workers unite while sex workers speak out.",
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
