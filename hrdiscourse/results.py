"""Read the output folder of a run: ``documents.jsonl``, ``errors.jsonl``, ``manifest.json``.

The one reader behind :meth:`Corpus.from_dir <hrdiscourse.api.Corpus.from_dir>`,
:meth:`Store.add_run <hrdiscourse.store.Store.add_run>` and
:func:`~hrdiscourse.reports.rebuild_reports`, so that a missing file or a bad line gets
the same message wherever it is read. Problems raise
:class:`~hrdiscourse.errors.ResultsError`, which is also the
:class:`~hrdiscourse.errors.ConfigError`, :class:`~hrdiscourse.errors.IngestError` and
:class:`~hrdiscourse.errors.StoreError` those three document.

```python
from hrdiscourse.results import iter_documents

for result in iter_documents("reports/sample/documents.jsonl"):  # streamed, one line at a time
    ...
```
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ResultsError

__all__ = ["DOCUMENTS", "ERRORS", "MANIFEST", "iter_documents", "iter_errors", "not_found", "read_manifest"]

DOCUMENTS = "documents.jsonl"
ERRORS = "errors.jsonl"
MANIFEST = "manifest.json"

_REPAIR = "a file cut off by a stopped run is repaired by 'hrdiscourse analyze ... --resume'."


def not_found(path: str | os.PathLike[str]) -> ResultsError:
    """The error for a missing file of a run folder."""
    return ResultsError(
        f"{path}: not found; give the output folder of 'hrdiscourse analyze ... --out DIR'.", source=str(path)
    )


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null", dict: "object"}
    return names.get(type(value), "number")


def _objects(path: Path, required: str) -> Iterator[dict[str, Any]]:
    # Bytes, split on b"\n" only: a bad byte is reported with its line, and no Unicode
    # line separator inside a JSON string splits a line.
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise ResultsError(
                    f"{path}: line {n}: not UTF-8 text (byte {exc.start + 1}); hrdiscourse writes UTF-8, so "
                    f"the file was changed or damaged since; {_REPAIR}",
                    source=str(path),
                    line=n,
                ) from exc
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ResultsError(
                    f"{path}: line {n}: not valid JSON ({exc.msg} at column {exc.colno}); {_REPAIR}",
                    source=str(path),
                    line=n,
                ) from exc
            except (ValueError, RecursionError) as exc:
                raise ResultsError(
                    f"{path}: line {n}: not valid JSON ({type(exc).__name__}); {_REPAIR}",
                    source=str(path),
                    line=n,
                ) from exc
            if not isinstance(obj, dict) or required not in obj:
                got = "an object without it" if isinstance(obj, dict) else f"a JSON {_json_type(obj)}"
                raise ResultsError(
                    f"{path}: line {n}: expected a JSON object with '{required}', got {got}; "
                    "is this the output of 'hrdiscourse analyze'?",
                    source=str(path),
                    line=n,
                )
            yield obj


def _open(path: str | os.PathLike[str], required: str) -> Iterator[dict[str, Any]]:
    file = Path(path)
    # Checked now, not at the first next(): a missing file is reported where it is named.
    if not file.is_file():
        raise not_found(file)
    return _objects(file, required)


def iter_documents(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Stream the results of a ``documents.jsonl`` file, one dict per line.

    Blank lines are skipped. Each line is read when the iterator reaches it, so a
    file of any size is read in constant memory.

    Args:
        path: The ``documents.jsonl`` file.

    Returns:
        An iterator of result dicts (``docs/schema.md``).

    Raises:
        ResultsError: At once when the file does not exist; while iterating, at the
            first line that is not UTF-8, not JSON, or not an object with ``doc_id``
            (the message names the file and the line).
    """
    return _open(path, "doc_id")


def iter_errors(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Stream the entries of an ``errors.jsonl`` file (``source``, ``location``, ``reason``).

    Raises:
        ResultsError: As :func:`iter_documents`; each line needs ``reason``.
    """
    return _open(path, "reason")


def read_manifest(path: str | os.PathLike[str], *, required: bool = False) -> dict[str, Any]:
    """Read a run's ``manifest.json``.

    Args:
        path: The ``manifest.json`` file.
        required: Raise when it is missing; otherwise a missing manifest is ``{}``.

    Raises:
        ResultsError: It is missing (when required), not JSON, or not a JSON object.
    """
    file = Path(path)
    if not file.is_file():
        if required:
            raise not_found(file)
        return {}
    try:
        manifest = json.loads(file.read_bytes().decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        detail = (
            f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        )
        raise ResultsError(
            f"{file}: not valid JSON ({detail}); rerun 'hrdiscourse analyze' to rewrite it.", source=str(file)
        ) from exc
    if not isinstance(manifest, dict):
        raise ResultsError(
            f"{file}: expected a JSON object, got a JSON {_json_type(manifest)}; rerun 'hrdiscourse analyze' "
            "to rewrite it.",
            source=str(file),
        )
    return manifest
