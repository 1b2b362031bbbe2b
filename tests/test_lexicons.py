"""Lexicon files: validation (every problem at once), patterns, examples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import spacy

from hrdiscourse.errors import LexiconError
from hrdiscourse.lexicons import (
    CUE_LEXICONS,
    MENTION_LEXICONS,
    SIGNAL_LEXICONS,
    TOKENIZER_ATTRS,
    lexicon_dir,
    load_lexicons,
    read_lexicon,
)

COOPTING_LABELS = [
    "EXIT_ABSTINENCE",
    "RELAPSE_PATHOLOGIZING",
    "RESCUE_SAVING",
    "TRAFFICKING_EXPLOITATION",
    "VICTIM_DEVIANCE",
    "LAW_ENFORCEMENT",
    "CRIMINALIZATION_PROHIBITION",
    "CONDITIONAL_SUPPORT",
    "SURVEILLANCE_PROFILING",
    "BEHAVIOUR_CONTROL",
    "NUISANCE_PUBLIC_ORDER",
    "MORAL_BALANCING",
    "ERADICATION_IDEAL",
]
ALL_NAMES = [*MENTION_LEXICONS, *SIGNAL_LEXICONS, *CUE_LEXICONS]

BAD_LEXICON = """\
meta:
  name: broken
  version: 1.0.0
  language: en
  source: "test"
  labels: [EXIT_ABSTINENCE]
entries:
  - id: x-001
    label: EXIT_ABSTINENCE
    source: "§5"
    pattern: "exit the sex trade"
    colour: red
  - id: x-001
    label: EXIT_ABSTINENCE
    source: "§5"
    pattern: "leave sex work"
  - id: x-002
    label: RESCUE_SAVING
    source: "§2"
    pattern: "rescue"
  - id: x-003
    label: EXIT_ABSTINENCE
    source: "§5"
    pattern: [{LEMMA: exit}]
  - id: x-004
    label: EXIT_ABSTINENCE
    pattern: [{LOWER: {IN: [no, exit]}}]
  - id: x-005
    label: EXIT_ABSTINENCE
    source: "§5"
    pattern: [{LOWER: exit}]
    requires_context: {any: [sex], window: zero}
"""


@pytest.fixture(scope="module")
def lexicons():
    return load_lexicons("en")


@pytest.fixture(scope="module")
def fast_nlp():
    from hrdiscourse.nlp.pipeline import load_pipeline

    return load_pipeline(mode="fast")


@pytest.mark.parametrize("name", ALL_NAMES)
def test_lexicons_load_every_english_lexicon(lexicons, name):
    lex = lexicons[name]
    assert lex.language == "en"
    assert lex.version.count(".") == 2
    assert lex.entries, name
    assert all(e.source.strip() for e in lex.entries), "every entry points back to the report"


@pytest.mark.parametrize("label", COOPTING_LABELS)
def test_lexicons_coopting_category_has_six_patterns(lexicons, label):
    counts = Counter(e.label for e in lexicons["coopting_signals"].entries)
    assert counts[label] >= 6


@pytest.mark.parametrize("name", ALL_NAMES)
def test_lexicons_patterns_use_tokenizer_attributes_only(lexicons, name):
    for entry in lexicons[name].entries:
        if isinstance(entry.pattern, list):
            for token in entry.pattern:
                assert set(k.upper() for k in token) <= TOKENIZER_ATTRS, entry.id


@pytest.mark.parametrize("name", [*MENTION_LEXICONS, *SIGNAL_LEXICONS])
def test_lexicons_to_patterns_carry_entry_ids(lexicons, name):
    lex = lexicons[name]
    patterns = lex.to_patterns()
    assert [p["id"] for p in patterns] == [e.id for e in lex.entries]
    assert {p["label"] for p in patterns} <= set(lex.labels)


@pytest.mark.parametrize("name", [*MENTION_LEXICONS, *SIGNAL_LEXICONS])
def test_lexicons_examples_match_their_entry(lexicons, fast_nlp, name):
    key = "hrd_mentions" if name in MENTION_LEXICONS else "hrd_signals"
    missing = []
    for entry in lexicons[name].entries:
        for example in entry.examples:
            doc = fast_nlp(example)
            if entry.label not in {s.label_ for s in doc.spans[key]}:
                missing.append((entry.id, example))
    assert not missing


def test_lexicons_validate_reports_all_problems_at_once(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(BAD_LEXICON, encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        read_lexicon(path)
    message = str(info.value)
    assert str(path) in message
    assert "7 problem(s)" in message
    assert "entry 'x-001': unknown key(s) ['colour']" in message
    assert "entry 'x-001': duplicate id" in message
    assert "entry 'x-002': label 'RESCUE_SAVING' is not in meta.labels" in message
    assert "entry 'x-003': pattern token 0: attribute 'LEMMA' is not allowed" in message
    assert "entry 'x-004': 'source' is missing" in message
    # YAML reads a bare `no` as False: caught, not silently matched
    assert "entry 'x-004': pattern token 0: IN needs a non-empty list of strings" in message
    assert "entry 'x-005': requires_context: 'window' must be a positive integer" in message


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("- just a list\n", "must be a mapping"),
        ("meta: {name: x}\nentries: []\n", "'entries' is missing or empty"),
        ("meta: [unclosed\n", "not valid YAML"),
    ],
)
def test_lexicons_read_rejects_malformed_files(tmp_path: Path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match="bad.yaml") as info:
        read_lexicon(path)
    assert fragment in str(info.value)


@pytest.mark.parametrize("name", ["no_such_lexicon"])
def test_lexicons_read_unknown_name_lists_known_ones(name):
    with pytest.raises(LexiconError, match="known lexicons: .*coopting_signals"):
        read_lexicon(name)


@pytest.mark.parametrize("language", ["xx"])
def test_lexicons_load_unknown_language_fails(language):
    with pytest.raises(LexiconError, match="no lexicon with meta.language 'xx'"):
        load_lexicons(language)


@pytest.mark.parametrize("name", ["harm_reduction.yaml"])
def test_lexicons_dir_is_the_checkout_folder(repo_root, name):
    assert lexicon_dir() == repo_root / "lexicons"
    assert (lexicon_dir() / name).exists()


@pytest.mark.parametrize("name", ["coopting_signals"])
def test_lexicons_constraints_keyed_by_entry_id(lexicons, name):
    constraints = lexicons[name].constraints()
    assert "exit-006" in constraints
    spec = constraints["exit-006"]
    assert "poll" in spec["excludes"]["any"] and spec["excludes"]["window"] >= 1
    assert "sex" in spec["requires"]["any"]


@pytest.mark.parametrize("text", ["harm reduction"])
def test_lexicons_phrase_patterns_follow_the_tokenizer(lexicons, text):
    # phrase strings are split by the tokenizer, so "harm-reduction" needs its own entry
    nlp = spacy.blank("en")
    assert [t.text for t in nlp.make_doc("harm-reduction")] == ["harm", "-", "reduction"]
    phrases = {e.pattern for e in lexicons["harm_reduction"].entries if isinstance(e.pattern, str)}
    assert {text, "harm-reduction"} <= phrases


# Paraphrase families added in coopting_signals 1.4.0 / domain_extension 1.2.0: sentences
# written for the tests (not from the gold), one positive per family and near-miss traps.
FAMILY_POSITIVES = [
    ("The shelter will share its sign-in log with the police.", "surveillance_profiling"),
    ("Every visitor to the site must now show ID at the door.", "surveillance_profiling"),
    ("The outreach app shares users' locations with partner agencies.", "surveillance_profiling"),
    ("Mandatory reporting of suspected trafficking to police is in the contract.", "surveillance_profiling"),
    ("Migrant women are screened for trafficking at the clinic.", "surveillance_profiling"),
    ("Residents are breathalysed at the door every night.", "surveillance_profiling"),
    ("Names of clients are entered into a shared database.", "surveillance_profiling"),
    ("Charges are dropped if they enrol in the diversion program.", "conditional_support"),
    ("Tenants who agree to a curfew are given priority for units.", "conditional_support"),
    ("Clients must still attend weekly counselling.", "conditional_support"),
    ("The shelter turns away anyone who is using.", "conditional_support"),
    ("The strategy aims to eliminate street-level prostitution.", "eradication_ideal"),
    ("The party's dream is a drug-free Canada.", "eradication_ideal"),
    ("Our goal is a province without a drug trade.", "eradication_ideal"),
    ("The critic said methadone keeps people comfortably addicted.", "relapse_pathologizing"),
    ("Volunteers say they saved 40 women from the streets last year.", "rescue_saving"),
    ("The plan is to help sex workers transition out of it within two years.", "exit_abstinence"),
    ("Counsellors urge women to walk away from drugs.", "exit_abstinence"),
    ("Council says the sites created an open-air drug market.", "nuisance_public_order"),
    ("Private security guards moved people along all night.", "nuisance_public_order"),
    ("By-law officers ticketed three women on the stroll.", "law_enforcement"),
    ("Residents complain the program steers women toward better life choices.", "behaviour_control"),
    ("A harm reduction campaign aims to curb coral bleaching.", "extension"),
]
FAMILY_TRAPS = [
    ("She decided to quit smoking last year.", "exit_abstinence"),
    ("Investors are looking for an exit before the market turns.", "exit_abstinence"),
    ("The results were logged in a database for the study.", "surveillance_profiling"),
    ("Police have not yet released the ID of the driver.", "surveillance_profiling"),
    ("He asked the public to help ID the suspect.", "surveillance_profiling"),
    ("Patients over fifty are screened for colon cancer every year.", "surveillance_profiling"),
    ("Drivers were breathalysed at a roadside checkpoint.", "surveillance_profiling"),
    ("The bank's credit risk scores are updated monthly.", "surveillance_profiling"),
    ("Delivery trucks carry GPS tracking units.", "surveillance_profiling"),
    ("Firefighters saved more than 30 people from the burning tower.", "rescue_saving"),
    ("New hires are on probation for three months.", "law_enforcement"),
    ("Farmers sell vegetables at the open-air market.", "nuisance_public_order"),
    ("Volunteers will clean up Riverside Park on Saturday.", "nuisance_public_order"),
    ("Seniors will be eligible for the new tax credit.", "conditional_support"),
    ("Involuntary manslaughter charges were laid.", "conditional_support"),
    ("Our vision is a city where no one has to sell sex.", "conditional_support"),
    ("The minister wants to eliminate street parking downtown.", "eradication_ideal"),
    ("The central bank's exit could put emerging economies in harm's way.", "extension"),
    ("Opponents argued that the harms of gambling fall on poor families.", "extension"),
    ("Water restrictions reduce the demand on the reservoir during a drought.", "extension"),
]


def _categories(nlp, text):
    from hrdiscourse.evaluation import gold_category

    doc = nlp(text)
    return {gold_category(s.label_) for s in doc.spans["hrd_signals"]}


@pytest.mark.parametrize("text, category", FAMILY_POSITIVES)
def test_lexicons_paraphrase_family_matches(fast_nlp, text, category):
    assert category in _categories(fast_nlp, text)


@pytest.mark.parametrize("text, category", FAMILY_TRAPS)
def test_lexicons_near_miss_trap_stays_out(fast_nlp, text, category):
    assert category not in _categories(fast_nlp, text)
