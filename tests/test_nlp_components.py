"""Unit tests of the span rulers, hrd_context and hrd_linker on spacy.blank("en")."""

from __future__ import annotations

import json
import tomllib
import warnings

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Span
from spacy.util import registry

from hrdiscourse.errors import HRDiscourseWarning
from hrdiscourse.nlp import factories
from hrdiscourse.nlp.context import quote_regions
from hrdiscourse.nlp.extensions import SPAN_EXTENSIONS, register_extensions
from hrdiscourse.nlp.pipeline import add_hrd_pipes
from hrdiscourse.nlp.serialize import doc_to_dict


@pytest.fixture(scope="module")
def blank_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return add_hrd_pipes(nlp)


def _texts(doc, key):
    return [(s.text, s.label_) for s in doc.spans[key]]


def _signal(doc, text):
    matches = [s for s in doc.spans["hrd_signals"] if s.text == text]
    assert matches, f"no signal {text!r} in {_texts(doc, 'hrd_signals')}"
    return matches[0]


@pytest.mark.parametrize("snapshot", ["factories.json"])
def test_nlp_factories_match_snapshot(repo_root, snapshot):
    expected = json.loads((repo_root / "tests" / "data" / "nlp" / snapshot).read_text())
    assert sorted(n for n in Language.factories if n.startswith("hrd_")) == expected["factories"]
    assert list(factories.FACTORY_NAMES) == expected["factories"]
    misc = sorted(n for n in registry.misc.get_all() if n.startswith("hrdiscourse."))
    assert misc == expected["misc"]
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["spacy_factories"] == expected["entry_points"]
    for target in expected["entry_points"].values():
        module, attr = target.split(":")
        assert callable(getattr(__import__(module, fromlist=[attr]), attr))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He was in harm's way when the fire started.", []),
        ("Critics listed the harms of prostitution at length.", []),
        ("The law aims to reduce the demand for paid sex.", []),
        ("The clinic adopted a harm-reduction strategy.", ["harm-reduction"]),
        ("The harm reduction committee met on Tuesday.", ["harm reduction"]),
        (
            "Harm reductionists and harm minimisation advocates agreed.",
            ["Harm reductionists", "harm minimisation"],
        ),
        ("Programs that reduce the harms people name.", ["reduce the harms"]),
    ],
)
def test_nlp_harm_reduction_mentions_and_traps(blank_nlp, text, expected):
    doc = blank_nlp(text)
    assert [s.text for s in doc.spans["hrd_mentions"]] == expected


@pytest.mark.parametrize(
    "text, absent",
    [
        ("Voters answered the exit poll on Tuesday.", "EXIT_ABSTINENCE"),
        ("Take the highway exit after the bridge.", "EXIT_ABSTINENCE"),
        ("Staff checked that the fire exit was clear.", "EXIT_ABSTINENCE"),
        ("The shelter's rescue dog found a home.", "RESCUE_SAVING"),
        ("Police seized fentanyl in a drug trafficking case.", "TRAFFICKING_EXPLOITATION"),
    ],
)
def test_nlp_signal_traps_give_no_signal(blank_nlp, text, absent):
    doc = blank_nlp(text)
    assert absent not in {s.label_ for s in doc.spans["hrd_signals"]}


@pytest.mark.parametrize(
    "text, signal, label",
    [
        ("Funding helps women exit the sex trade.", "exit the sex trade", "EXIT_ABSTINENCE"),
        ("Support to help people leave sex work.", "leave sex work", "EXIT_ABSTINENCE"),
        ("Sex workers who want to get out of the industry.", "get out of the industry", "EXIT_ABSTINENCE"),
        ("Volunteers say they help them get out.", "help them get out", "RESCUE_SAVING"),
        ("A human trafficking task force was set up.", "human trafficking", "TRAFFICKING_EXPLOITATION"),
        ("Police will patrol the area.", "Police", "LAW_ENFORCEMENT"),
        (
            "The program is not harm reduction in a drug-free society.",
            "drug-free society",
            "ERADICATION_IDEAL",
        ),
    ],
)
def test_nlp_signals_found_with_entry_ids(blank_nlp, text, signal, label):
    span = _signal(blank_nlp(text), signal)
    assert span.label_ == label
    assert span.id_, "span.id_ carries the lexicon entry id"


@pytest.mark.parametrize(
    "text, signal, flag, value",
    [
        (
            "The program does not require participants to exit the sex trade.",
            "exit the sex trade",
            "negated",
            True,
        ),
        ("The program requires participants to exit the sex trade.", "exit the sex trade", "negated", False),
        ("Outreach happens without involving police.", "police", "negated", True),
        ("Not only police but also nurses attend.", "police", "negated", False),
        ("We do not judge, but police are always called.", "police", "negated", False),
        (
            'Calling an exit program "harm reduction" runs counter to its principles.',
            "exit program",
            "critical",
            True,
        ),
        ("The exit program is part of a harm reduction approach.", "exit program", "critical", False),
        ("The so-called exit program was renamed.", "exit program", "hedged", True),
        ("Women “exiting” the sex industry were counted.", "exiting” the sex industry", "quoted", True),
        ("Women exiting the sex industry were counted.", "exiting the sex industry", "quoted", False),
    ],
)
def test_nlp_context_flags(blank_nlp, text, signal, flag, value):
    span = _signal(blank_nlp(text), signal)
    assert getattr(span._, f"hrd_{flag}") is value


@pytest.mark.parametrize(
    "text, flag",
    [
        ("This is not harm reduction.", "negated"),
        ("So-called harm reduction is spreading.", "hedged"),
        ("They call it 'harm reduction' now.", "quoted"),
        ("Exit programs are incompatible with harm reduction.", "critical"),
        ("They co-opted the word. Harm reduction became a slogan.", "critical"),
    ],
)
def test_nlp_context_flags_on_mentions(blank_nlp, text, flag):
    doc = blank_nlp(text)
    assert getattr(doc.spans["hrd_mentions"][0]._, f"hrd_{flag}") is True


@pytest.mark.parametrize("text", ['"Exit programs are harm reduction," the minister said.'])
def test_nlp_speaker_is_none_without_parse(blank_nlp, text):
    doc = blank_nlp(text)
    assert all(s._.hrd_speaker is None for s in doc.spans["hrd_mentions"])


@pytest.mark.parametrize(
    "text, strength",
    [
        ("The exit program is part of a harm reduction approach.", "direct"),
        ("The harm reduction service is open late, but police patrol nearby.", "sentence"),
        ("The clinic uses harm reduction. It is busy. Police patrol nearby.", "nearby"),
        ("Harm reduction works. One. Two. Three. Police patrol nearby.", "document"),
    ],
)
def test_nlp_linker_strength_without_parse(blank_nlp, text, strength):
    doc = blank_nlp(text)
    assert [link["strength"] for link in doc._.hrd_links] == [strength]


@pytest.mark.parametrize("text", ["Police patrol the area."])
def test_nlp_linker_no_mention_no_links(blank_nlp, text):
    assert blank_nlp(text)._.hrd_links == []


@pytest.mark.parametrize(
    "text, region",
    [
        ('He said "harm reduction" twice.', "harm reduction"),
        ("They call it “harm reduction” now.", "harm reduction"),
        ("They call it 'harm reduction' now.", "harm reduction"),
        ("Sex workers’ rights and ‘exit’ language.", "exit"),
    ],
)
def test_nlp_quote_regions(text, region):
    assert [text[a:b] for a, b in quote_regions(text)] == [region]


@pytest.mark.parametrize("text", ["The workers' rights and the sex workers' union."])
def test_nlp_quote_regions_ignore_apostrophes(text):
    assert quote_regions(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The province says its exit program is part of a harm reduction approach. Police will attend.",
        "The program does not require participants to exit the sex trade; it is harm reduction.",
    ],
)
def test_nlp_to_disk_round_trip_gives_same_spans(blank_nlp, tmp_path, text):
    blank_nlp.to_disk(tmp_path / "pipe")
    loaded = spacy.load(tmp_path / "pipe")
    assert loaded.pipe_names == blank_nlp.pipe_names
    assert doc_to_dict(loaded(text)) == doc_to_dict(blank_nlp(text))


@pytest.mark.parametrize("text", ["The exit program is part of a harm reduction approach."])
def test_nlp_to_bytes_round_trip_keeps_cues(blank_nlp, text):
    context = blank_nlp.get_pipe("hrd_context")
    other = factories.make_context(blank_nlp, "copy", "hrd_mentions", "hrd_signals", 1)
    other.from_bytes(context.to_bytes())
    assert other.cues == context.cues and other.constraints == context.constraints


@pytest.mark.parametrize("text", ["Police said harm reduction includes exit programs."])
def test_nlp_doc_to_dict_follows_schema(blank_nlp, text):
    result = doc_to_dict(blank_nlp(text))
    assert set(result) == {"hr_mentions", "signals", "links"}
    mention = result["hr_mentions"][0]
    assert list(mention) == [
        "id", "start", "end", "text", "entry_id", "label", "sent_index", "sentence", "sent_start",
        "negated", "hedged", "quoted", "critical", "speaker",
    ]  # fmt: skip
    assert mention["id"] == "m0" and mention["label"] == "HARM_REDUCTION"
    assert text[mention["start"] : mention["end"]] == mention["text"]
    signal = result["signals"][0]
    assert list(signal)[:7] == ["id", "start", "end", "text", "entry_id", "kind", "category"]
    assert {s["kind"] for s in result["signals"]} == {"coopting"}
    assert {s["category"] for s in result["signals"]} == {"law_enforcement", "exit_abstinence"}
    assert {link["mention"] for link in result["links"]} == {"m0"}
    assert {link["signal"] for link in result["links"]} == {"s0", "s1"}


@pytest.mark.parametrize("name", sorted(SPAN_EXTENSIONS))
def test_nlp_extensions_register_idempotently_and_warn_on_overwrite(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_extensions()  # same definition: silent
    Span.set_extension(name, default="something else", force=True)
    try:
        with pytest.warns(HRDiscourseWarning, match=name):
            register_extensions()
    finally:
        register_extensions()
    assert Span.get_extension(name)[0] == SPAN_EXTENSIONS[name]
