"""Custom attribute registrations: the one place ``._.hrd_*`` extensions are declared.

Registration is idempotent: registering again with the same default is a no-op;
registering over an extension that another package set up differently warns
(:class:`~hrdiscourse.errors.HRDiscourseWarning`) and then overwrites it.
"""

from __future__ import annotations

import warnings
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import HRDiscourseWarning

#: Span extensions set by the ``hrd_context`` component, with their defaults.
SPAN_EXTENSIONS: dict[str, Any] = {
    "hrd_negated": False,
    "hrd_hedged": False,
    "hrd_quoted": False,
    "hrd_critical": False,
    "hrd_speaker": None,
}
#: Doc extensions set by the ``hrd_linker`` component (``None`` until the linker ran).
DOC_EXTENSIONS: dict[str, Any] = {"hrd_links": None}


def _register(cls: type, name: str, default: Any) -> None:
    if cls.has_extension(name):
        current = cls.get_extension(name)
        # get_extension -> (default, method, getter, setter)
        if current is not None and current[0] == default and current[1:] == (None, None, None):
            return
        warnings.warn(
            f"{cls.__name__} extension '{name}' is already registered with a different definition "
            f"({current!r}); hrdiscourse overwrites it with default={default!r}.",
            HRDiscourseWarning,
            stacklevel=3,
        )
    cls.set_extension(name, default=default, force=True)


def register_extensions() -> None:
    """Register every hrdiscourse Span and Doc extension (safe to call many times)."""
    for name, default in SPAN_EXTENSIONS.items():
        _register(Span, name, default)
    for name, default in DOC_EXTENSIONS.items():
        _register(Doc, name, default)


#: ``doc.user_data`` key holding the text a Doc was made from (see :func:`make_doc`).
TEXT_KEY = "hrd_text"


def lines_up(doc: Doc, text: str) -> bool:
    """Whether ``text`` is the text ``doc`` was made from (checked at its last token)."""
    if not len(doc):
        return not text
    last = doc[-1]
    return (
        last.idx + len(last.text_with_ws) == len(text) and text[last.idx : last.idx + len(last)] == last.text
    )


def make_doc(nlp: Language, text: str) -> Doc:
    """``nlp.make_doc(text)`` keeping ``text`` beside the Doc for :func:`doc_text`."""
    doc = nlp.make_doc(text)
    doc.user_data[TEXT_KEY] = text
    return doc


def doc_text(doc: Doc) -> str:
    """``doc.text`` without joining every token again when :func:`make_doc` kept the text.

    spaCy rebuilds ``Doc.text`` from its tokens on every access (about 4 ms for a news
    article); the kept text is used only when it still lines up with the tokens.
    """
    text = doc.user_data.get(TEXT_KEY)
    if isinstance(text, str) and lines_up(doc, text):
        return text
    return doc.text
