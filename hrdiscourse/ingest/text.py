"""Plain text and Markdown (``.txt``, ``.md``), with optional YAML front matter.

```text
---
title: Federal funding helps women leave sex trade
author: Robin Grand
date: 24 April 2019
outlet: Penticton Western News
---
Body text...
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ..types import Record, Rejected
from .decode import clean_text, decode_bytes, looks_binary
from .meta import make_record

_FENCE_RE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M)
_HEADING_RE = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)
_FIELDS = "title, author, date, outlet, url, doc_type, language, id"


def split_front_matter(text: str, *, file: str) -> tuple[dict[str, Any], str] | Rejected:
    """Split YAML front matter from the body.

    Front matter starts on the first line with ``---`` and ends at the next line that
    is ``---`` or ``...``; without a closing line the whole file is body text.

    Args:
        text: The decoded file.
        file: The file's source path, for messages.

    Returns:
        ``(metadata, body)``, or :class:`Rejected` when the YAML is
        invalid or not a mapping.
    """
    first, _, rest = text.partition("\n")
    if first.rstrip() != "---":
        return {}, text
    closing = _FENCE_RE.search(rest)
    if closing is None:
        return {}, text
    block = rest[: closing.start()]
    body = rest[closing.end() :].lstrip("\n")
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = f"line {mark.line + 2}" if mark is not None else "front matter"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return Rejected(
            file,
            f"invalid YAML front matter: {problem}; write 'key: value' lines between the two '---' lines "
            f"(quote values that contain ':' or '#').",
            line,
        )
    if data is None:
        return {}, body
    if not isinstance(data, dict):
        return Rejected(
            file,
            f"YAML front matter is a {type(data).__name__}, not a mapping; write 'key: value' lines "
            f"({_FIELDS}).",
            "line 2",
        )
    return data, body


def read_text(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read a ``.txt`` or ``.md`` file as one document.

    The encoding is guessed (:func:`~hrdiscourse.ingest.decode.decode_bytes`). A
    Markdown file without a ``title`` takes its first ``# heading`` as title.

    Args:
        path: The file.
        file: Its source path as reported.

    Yields:
        One Record, or one Rejected (invalid front matter, binary data, no text).
    """
    text = decode_bytes(path.read_bytes())
    if looks_binary(text):
        yield Rejected(
            file,
            "file looks like binary data, not text (many control characters); if it is UTF-16 text, "
            "save it with a byte-order mark or as UTF-8.",
        )
        return
    split = split_front_matter(clean_text(text), file=file)
    if isinstance(split, Rejected):
        yield split
        return
    meta, body = split
    if path.suffix.lower() == ".md" and not any(str(k).lower() == "title" for k in meta):
        heading = _HEADING_RE.search(body)
        if heading:
            meta = {**meta, "title": heading.group(1)}
    yield make_record(body, meta, file=file)
