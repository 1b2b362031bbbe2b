"""Language detection and routing: each document analysed in its own language, in input order."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from hrdiscourse import language
from hrdiscourse.errors import HRDiscourseWarning
from hrdiscourse.language import SUPPORTED_LANGUAGES, detect_language, resolve_language
from hrdiscourse.runner import run_analysis

EN_TEXT = "The province funds an exit program for women who want to leave the sex trade."
FR_TEXT = "Le gouvernement finance un programme de sortie pour les femmes qui veulent quitter le milieu."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (EN_TEXT, "en"),
        (FR_TEXT, "fr"),
        ("Stella says the SPVM squad is not harm reduction.", "en"),
        ("La réduction des méfaits sauve des vies, selon la santé publique.", "fr"),
        # Mixed: the majority language wins.
        (
            "The city council voted on Tuesday to fund what the mayor called « réduction des méfaits » "
            "services for people who use drugs.",
            "en",
        ),
        (
            "Le conseil municipal a voté mardi pour financer ce que le maire appelle du harm reduction "
            "pour les personnes itinérantes.",
            "fr",
        ),
        ("The report by Stella, l'amie de Maimie, was published in Montréal in 2020.", "en"),
    ],
)
def test_language_detect_language_short_texts(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "   \n", "2019-04-24", "OK", "https://example.org/x/1"])
@pytest.mark.parametrize("default", ["en", "fr"])
def test_language_detect_language_falls_back_when_undecidable(text: str, default: str) -> None:
    assert detect_language(text, default=default) == default


@pytest.mark.parametrize("text", [EN_TEXT, FR_TEXT])
def test_language_detect_language_answers_only_supported_languages(text: str) -> None:
    assert detect_language(text * 3) in SUPPORTED_LANGUAGES


@pytest.mark.parametrize("calls", [2])
def test_language_detector_is_built_once(calls: int) -> None:
    detectors = {id(language._get_detector()) for _ in range(calls)}
    assert len(detectors) == 1


@pytest.mark.parametrize(
    ("text", "declared", "expected"),
    [
        (EN_TEXT, "fr", "fr"),  # metadata overrides detection
        (FR_TEXT, "en", "en"),
        (FR_TEXT, "fr-CA", "fr"),
        (EN_TEXT, "EN_gb", "en"),
        (FR_TEXT, None, "fr"),
        (EN_TEXT, "", "en"),
    ],
)
def test_language_resolve_language_metadata_overrides(text: str, declared: str | None, expected: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_language(text, declared) == expected


@pytest.mark.parametrize(("text", "declared", "expected"), [(FR_TEXT, "es", "fr"), (EN_TEXT, "de", "en")])
def test_language_resolve_language_unsupported_code_warns_and_detects(
    text: str, declared: str, expected: str
) -> None:
    with pytest.warns(HRDiscourseWarning, match=f"language '{declared}' has no lexicons"):
        assert resolve_language(text, declared, where="doc.txt") == expected


# --------------------------------------------------------------------------- routing

MIXED = [
    ("a-en-coopted.txt", "en", "The ministry says its exit program is part of a harm reduction approach."),
    (
        "b-fr-coopted.txt",
        "fr",
        "Selon la ministre, le programme de sortie de la prostitution fait partie d'une approche "
        "de réduction des méfaits.",
    ),
    ("c-en-none.txt", "en", "Police charged two men with human trafficking after a raid on Tuesday."),
    (
        "d-fr-aligned.txt",
        None,  # no language in the front matter: detected
        "Une halte-répit par et pour les travailleuses du sexe offre du matériel de réduction des méfaits, "
        "sans jugement et sans condition.",
    ),
    (
        "e-fr-declared.txt",
        "fr",
        "La Ville présente sa nouvelle escouade policière comme une mesure de réduction des risques.",
    ),
]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict]]:
    src = tmp_path_factory.mktemp("mixed")
    for name, lang, text in MIXED:
        head = (
            f'---\nid: {Path(name).stem}\ntitle: "{name}"\n'
            + (f"language: {lang}\n" if lang else "")
            + "---\n"
        )
        (src / name).write_text(head + text + "\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    manifest = run_analysis(src, out, mode="fast", write_reports=False)
    rows = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    return manifest, rows


def test_language_routing_mixed_folder_keeps_input_order(mixed_run: tuple[dict, list[dict]]) -> None:
    manifest, rows = mixed_run
    assert manifest["analysed"] == len(MIXED)
    assert [r["doc_id"] for r in rows] == [Path(name).stem for name, _, _ in MIXED]


@pytest.mark.parametrize(
    ("doc_id", "lang", "hr_text"),
    [
        ("a-en-coopted", "en", "harm reduction"),
        ("b-fr-coopted", "fr", "réduction des méfaits"),
        ("c-en-none", "en", None),
        ("d-fr-aligned", "fr", "réduction des méfaits"),
        ("e-fr-declared", "fr", "réduction des risques"),
    ],
)
def test_language_routing_each_document_in_its_language(
    mixed_run: tuple[dict, list[dict]], doc_id: str, lang: str, hr_text: str | None
) -> None:
    row = next(r for r in mixed_run[1] if r["doc_id"] == doc_id)
    assert row["language"] == lang
    assert [m["text"] for m in row["hr_mentions"]][:1] == ([hr_text] if hr_text else [])
    # Each result names the lexicons of its own language.
    assert set(row["lexicons"]) >= {"harm_reduction", "coopting_signals", "context_cues"}


@pytest.mark.parametrize(("doc_id", "label"), [("b-fr-coopted", "coopted"), ("d-fr-aligned", "aligned")])
def test_language_routing_french_documents_get_french_labels(
    mixed_run: tuple[dict, list[dict]], doc_id: str, label: str
) -> None:
    row = next(r for r in mixed_run[1] if r["doc_id"] == doc_id)
    assert row["label"] == label


@pytest.mark.parametrize("key", ["spacy_pipeline_fr"])
def test_language_routing_manifest_names_both_pipelines(mixed_run: tuple[dict, list[dict]], key: str) -> None:
    manifest = mixed_run[0]
    assert manifest["model"][key].startswith("fr_")
    assert "fr:harm_reduction" in manifest["lexicons"] and "harm_reduction" in manifest["lexicons"]


@pytest.mark.parametrize("mode", ["fast"])
def test_language_analyzer_loads_french_only_when_needed(mode: str) -> None:
    from hrdiscourse.analysis import Analyzer
    from hrdiscourse.types import Record

    analyzer = Analyzer(mode=mode)
    english = [(Record(EN_TEXT, {"doc_id": "en", "source": "en.txt"}), None)]
    list(analyzer.analyze_records(english))
    assert "spacy_pipeline_fr" not in analyzer.model_info()
    french = [(Record(FR_TEXT, {"doc_id": "fr", "source": "fr.txt"}), None)]
    ((_, _, result),) = analyzer.analyze_records(french)
    assert result["language"] == "fr"
    assert "spacy_pipeline_fr" in analyzer.model_info()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "the cat, l'été — où ça?",
        "naïve café\u00a0the\u2028and ’the’ “of” x²y ½ ٣4 snake_case",
        "\ud800lone surrogate the\udcff and",  # surrogateescape'd bytes
        "ǅemal İstanbul STRASSE straße \u0301the",
        "\x1c\x1dthe\x1e\x1fof\x85to",
    ],
)
def test_language_words_are_the_word_pattern_matches(text: str) -> None:
    lower = text.lower()
    assert language._words(lower) == language._WORD.findall(lower)


def test_language_words_match_the_word_pattern_around_every_character() -> None:
    for cp in range(0, 0x110000, 7):
        ch = chr(cp)
        for text in (f"ab{ch}cd é", f"{ch}x the", f"é{ch}{ch}"):
            assert language._words(text) == language._WORD.findall(text), hex(cp)


@pytest.mark.parametrize("text", [EN_TEXT * 5, FR_TEXT * 5, (EN_TEXT + " où été être ") * 4, "the " * 19])
def test_language_clearly_english_counts_as_a_word_loop(text: str) -> None:
    en = fr = 0
    for word in language._WORD.findall(text.lower()):
        if word in language._EN_WORDS:
            en += 1
        elif word in language._FR_WORDS:
            fr += 1
    expected = en >= language.CLEAR_MIN_WORDS and fr * language.CLEAR_RATIO <= en
    assert language._clearly_english(text) == expected
