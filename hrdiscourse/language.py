"""Document language: declared in the metadata, else detected from the text.

Detection uses lingua restricted to the languages hrdiscourse has lexicons and
pipelines for (English and French), so it never answers a language the analysis
cannot handle. The detector is built once, on first use. Text too short or too
ambiguous to decide falls back to English, the default language of the tool.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

from .errors import HRDiscourseWarning

#: ISO 639-1 codes of the languages with lexicons and pipelines.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr")
DEFAULT_LANGUAGE = "en"
#: Characters read for detection; the head of a document is enough to tell English from
#: French, and lingua's cost grows with the text.
SAMPLE_CHARS = 5000
#: Below this many letters the text is undecidable ("OK", "2019", a URL).
MIN_LETTERS = 3
#: Confidence (0.5 to 1.0 with two languages) the best language needs to be chosen.
MIN_CONFIDENCE = 0.6

#: URLs and e-mail addresses say nothing about the language of the text around them.
_NOT_LANGUAGE = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+\.\S+")

#: Function words of one language that are not words of the other. A sample with at least
#: :data:`CLEAR_MIN_WORDS` English ones and almost no French ones is English without asking
#: lingua (about 3 ms a document); anything less clear-cut goes to lingua.
_EN_WORDS = frozenset(
    "the and of to is was that with for this are were have has from which would their they "
    "be been by it its will who what when there said not but than".split()
)
_FR_WORDS = frozenset(
    "le la les des du une et est dans pour pas sur qui que avec aux ce cette sont ne nous vous "
    "leur mais ou où été être d l qu c".split()
)
_WORD = re.compile(r"[^\W\d_]+")
#: Every ASCII character that is not a letter, to a space: on ASCII text, splitting what
#: this leaves gives the words :data:`_WORD` finds, several times faster.
_ASCII_NON_LETTERS = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalpha()})
#: The same for the bytes of UTF-8 text (bytes 128-255 stay: they are parts of non-ASCII
#: characters). ``str.translate`` is slow on non-ASCII text, ``bytes.translate`` is not.
_ASCII_NON_LETTER_BYTES = bytes(32 if i < 128 and not chr(i).isalpha() else i for i in range(256))
#: The French words :func:`_clearly_english` counts: those that are not English ones.
_FR_ONLY_WORDS = _FR_WORDS - _EN_WORDS
CLEAR_MIN_WORDS = 20
#: At most one French function word per this many English ones in a clearly English sample.
CLEAR_RATIO = 20

_detector: Any = None
_lock = threading.Lock()


def _get_detector() -> Any:
    """Build the lingua detector on first use (loading its models takes a moment)."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _detector = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.FRENCH).build()
    return _detector


def _has_letters(sample: str, n: int) -> bool:
    """Whether ``sample`` holds at least ``n`` letters (stops counting at ``n``)."""
    for ch in sample:
        if ch.isalpha():
            n -= 1
            if n <= 0:
                return True
    return n <= 0


def _words(lower: str) -> list[str]:
    """``_WORD.findall(lower)``, faster.

    The ASCII characters that are not letters become spaces (they are not in
    :data:`_WORD`'s class, nor is a space: its matches, the longest runs of letters, stay
    the same) and the result is split at whitespace (not in the class either), so every
    match lies inside one piece. A piece of ASCII characters only is all letters: it is a
    match. The other pieces are searched with :data:`_WORD`.
    """
    if lower.isascii():
        return lower.translate(_ASCII_NON_LETTERS).split()
    # through the UTF-8 bytes, which surrogatepass round-trips for any str
    spaced = lower.encode("utf-8", "surrogatepass").translate(_ASCII_NON_LETTER_BYTES)
    words: list[str] = []
    for piece in spaced.decode("utf-8", "surrogatepass").split():
        if piece.isascii():
            words.append(piece)
        else:
            words.extend(_WORD.findall(piece))
    return words


def _clearly_english(sample: str) -> bool:
    """Many English function words and (almost) no French ones: lingua would say English."""
    words = _words(sample.lower())
    en = sum(map(_EN_WORDS.__contains__, words))
    fr = sum(map(_FR_ONLY_WORDS.__contains__, words))
    return en >= CLEAR_MIN_WORDS and fr * CLEAR_RATIO <= en


def detect_language(
    text: str,
    *,
    default: str = DEFAULT_LANGUAGE,
    min_confidence: float = MIN_CONFIDENCE,
) -> str:
    """Detect whether a text is English or French.

    Args:
        text: The document text; only its first :data:`SAMPLE_CHARS` characters are read,
            without URLs and e-mail addresses.
        default: The code returned when the text is empty, too short or undecidable.
        min_confidence: The confidence the best language needs (with two candidate
            languages the best one always has at least 0.5).

    Returns:
        ``"en"`` or ``"fr"`` (ISO 639-1).
    """
    sample = (text or "")[:SAMPLE_CHARS]
    # Every address the pattern removes holds one of these; most texts have none, and the
    # pattern is slow to find nothing (it backtracks over every run of non-spaces).
    if "://" in sample or "www." in sample or "@" in sample:
        sample = _NOT_LANGUAGE.sub(" ", sample)
    if not _has_letters(sample, MIN_LETTERS):
        return default
    if _clearly_english(sample):
        return "en"
    values = _get_detector().compute_language_confidence_values(sample)
    if not values or values[0].value < min_confidence:
        return default
    return values[0].language.iso_code_639_1.name.lower()


def resolve_language(text: str, declared: str | None = None, *, where: str = "") -> str:
    """The language a document is analysed in: the declared one when supported, else detected.

    Args:
        text: The document text.
        declared: The ``language`` metadata (already an ISO 639-1 code, or ``None``).
        where: The document's source, for the warning about an unsupported language.

    Returns:
        One of :data:`SUPPORTED_LANGUAGES`.
    """
    if declared:
        code = str(declared).strip().lower().replace("_", "-").split("-")[0]
        if code in SUPPORTED_LANGUAGES:
            return code
        detected = detect_language(text)
        warnings.warn(
            f"{where or 'document'}: language {declared!r} has no lexicons; it is analysed as "
            f"{detected!r} (detected from the text). Supported languages: {', '.join(SUPPORTED_LANGUAGES)}.",
            HRDiscourseWarning,
            stacklevel=2,
        )
        return detected
    return detect_language(text)
