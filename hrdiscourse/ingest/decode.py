"""Bytes to clean text: encoding detection and removal of invisible characters.

Corpora arrive from many tools: UTF-8 with or without a byte-order mark, UTF-16
exported by Windows software, and French text saved as cp1252 or Latin-1. Hidden
characters (NUL, control characters, zero-width spaces, soft hyphens) break phrase
matching ("harm\u200breduction" would not match), so they are removed from the text
and from every metadata string.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

# UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: C0/C1 control characters except tab and newline (CR, FF, VT are turned into newlines first).
_CONTROL = "\x00-\x08\x0e-\x1f\x7f-\x9f"
#: Unicode format characters (category Cf): zero-width space/joiners, BOM, soft hyphen,
#: bidi marks and isolates, invisible operators, tag characters.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_INVISIBLE_RE = re.compile(f"[{_CONTROL}{_FORMAT}]")
_BINARY_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_NEWLINES_RE = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_SPACES_RE = re.compile("[\u00a0\u2007\u202f]")
_TRAILING_RE = re.compile("[ \t]+\n")
_BLANKS_RE = re.compile("\n{3,}")
_WS_RE = re.compile(r"\s+")

#: Share of control characters above which decoded "text" is treated as binary data.
BINARY_THRESHOLD = 0.10


def decode_bytes(data: bytes) -> str:
    """Decode file bytes, guessing the encoding the way corpora are usually saved.

    A byte-order mark decides (UTF-8, UTF-16, UTF-32); otherwise UTF-8 is tried, then
    cp1252 (Windows French), then Latin-1, which accepts any byte sequence.

    Args:
        data: The raw bytes.

    Returns:
        The decoded string, BOM removed. Never raises.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def looks_binary(text: str) -> bool:
    """Tell whether decoded text is really binary data (many control characters).

    Args:
        text: A string from :func:`decode_bytes`, before cleaning.

    Returns:
        True when more than :data:`BINARY_THRESHOLD` of the characters are controls.
    """
    if not text:
        return False
    sample = text[:100_000]
    return len(_BINARY_RE.findall(sample)) > BINARY_THRESHOLD * len(sample)


def clean_text(text: str) -> str:
    """Normalise document text for analysis.

    Line breaks become ``\\n``; NUL, control and zero-width/format characters are
    removed (tab and newline are kept); no-break spaces become spaces; the text is
    put in Unicode NFC; trailing spaces and runs of more than one blank line are
    collapsed; leading and trailing whitespace is stripped.

    Args:
        text: Any string.

    Returns:
        The cleaned string (possibly empty).
    """
    text = _NEWLINES_RE.sub("\n", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_RE.sub("\n", text)
    text = _BLANKS_RE.sub("\n\n", text)
    return text.strip()


def clean_string(value: str) -> str | None:
    """Clean a metadata string: :func:`clean_text`, then all whitespace runs become one space.

    Args:
        value: A metadata value.

    Returns:
        The cleaned one-line string, or None when nothing is left.
    """
    cleaned = _WS_RE.sub(" ", clean_text(value)).strip()
    return cleaned or None
