"""hrd_sentencizer (vectorised sentencizer) against spaCy's Sentencizer, token for token."""

from __future__ import annotations

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy.attrs import SENT_START
from spacy.pipeline import Sentencizer

from hrdiscourse.nlp.sentencizer import ArraySentencizer
from hrdiscourse.nlp.serialize import doc_to_dict

#: Pieces that make the tokenizer's and the sentencizer's edge cases likely: runs of
#: punctuation, quotes and brackets after periods, whitespace tokens, non-Latin stops.
_PIECES = [
    "Harm",
    "reduction",
    "works",
    "e.g.",
    "U.S.",
    "Mr.",
    "3.5",
    "...",
    "…",
    ".",
    "!",
    "?",
    "?!",
    "。",
    "！",
    '"',
    "'",
    "“",
    "”",
    "(",
    ")",
    "[",
    "]",
    "-",
    "—",
    ",",
    ";",
    ":",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "said",
    "she",
    "A",
]

_texts = st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
    st.lists(st.sampled_from(_PIECES), max_size=40).map(" ".join),
    st.text(alphabet=st.sampled_from(list("ab .!?\"')(\n\t。…")), max_size=60),
)


@pytest.fixture(scope="module")
def blank_en():
    return spacy.blank("en")


def _starts(doc) -> list[int]:
    return doc.to_array([SENT_START]).astype("int64").tolist()


def _both(nlp, text, **cfg):
    ours, theirs = nlp.make_doc(text), nlp.make_doc(text)
    ArraySentencizer(**cfg)(ours)
    Sentencizer(**cfg)(theirs)
    return ours, theirs


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        ".",
        "...",
        ". Starts with a period. Then text",
        'He said "no." Then he left.',
        "Really?! Yes. (Quite.) Fine",
        "One.\n\nTwo.  \n Three",
        "No stop at all",
        "“Quoted.” — she said.",
        "Ends with a period.",
    ],
)
def test_nlp_sentencizer_matches_spacy_on_edge_cases(blank_en, text):
    ours, theirs = _both(blank_en, text)
    assert _starts(ours) == _starts(theirs)
    if len(ours):
        assert [s.text for s in ours.sents] == [s.text for s in theirs.sents]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_texts)
def test_nlp_sentencizer_matches_spacy_on_generated_texts(blank_en, text):
    ours, theirs = _both(blank_en, text)
    assert _starts(ours) == _starts(theirs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_texts)
def test_nlp_sentencizer_predicted_starts_match_spacy_predict(blank_en, text):
    doc = blank_en.make_doc(text)
    theirs = Sentencizer().predict([doc])[0] if len(doc) else []
    assert ArraySentencizer().predicted_starts(doc).tolist() == [bool(g) for g in theirs]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=_texts,
    punct=st.lists(st.sampled_from([".", "!", ";", ",", '"', "—", "\n"]), max_size=4),
    overwrite=st.booleans(),
    preset=st.lists(st.sampled_from([-1, 0, 1]), max_size=10),
)
def test_nlp_sentencizer_matches_spacy_with_settings_and_preset_starts(
    blank_en, text, punct, overwrite, preset
):
    ours, theirs = blank_en.make_doc(text), blank_en.make_doc(text)
    for doc in (ours, theirs):
        for i, value in enumerate(preset[: len(doc)]):
            if value:
                doc[i].is_sent_start = value == 1
    ArraySentencizer(punct_chars=punct or None, overwrite=overwrite)(ours)
    Sentencizer(punct_chars=punct or None, overwrite=overwrite)(theirs)
    assert _starts(ours) == _starts(theirs)


@pytest.mark.parametrize("punct_chars", [None, [";", "!"]])
def test_nlp_sentencizer_to_disk_round_trip(tmp_path, punct_chars):
    nlp = spacy.blank("en")
    nlp.add_pipe("hrd_sentencizer", name="sentencizer", config={"punct_chars": punct_chars})
    nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.get_pipe("sentencizer").punct_chars == nlp.get_pipe("sentencizer").punct_chars
    assert isinstance(loaded.get_pipe("sentencizer"), ArraySentencizer)
    text = "One; two! Three. Four"
    assert _starts(loaded(text)) == _starts(nlp(text))


@pytest.mark.parametrize(
    "text", ["The province says its exit program is harm reduction. Police will attend."]
)
def test_nlp_fast_pipeline_round_trip_uses_hrd_sentencizer(nlp_fast, tmp_path, text):
    assert nlp_fast.get_pipe_meta("sentencizer").factory == "hrd_sentencizer"
    nlp_fast.to_disk(tmp_path / "fast")
    loaded = spacy.load(tmp_path / "fast")
    assert loaded.pipe_names == nlp_fast.pipe_names
    assert doc_to_dict(loaded(text)) == doc_to_dict(nlp_fast(text))
