"""Read a corpus: files and folders of text, HTML, PDF, JSONL/CSV/TSV, RSS/Atom feeds and web archives.

```python
from hrdiscourse.ingest import read_corpus

errors = []
for record in read_corpus("corpora/news", errors=errors):
    ...
# every input is a yielded Record or an entry of `errors`
```
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import IngestError
from ..types import Record, Rejected
from .feeds import read_feed
from .html import read_html
from .pdf import read_pdf
from .tabular import read_delimited, read_jsonl
from .text import read_text
from .warc import read_warc

__all__ = ["READERS", "SUPPORTED_SUFFIXES", "file_suffix", "read_corpus", "read_file"]

Reader = Callable[[Path, str], Iterator[Record | Rejected]]

#: File suffix (lower case) → reader.
READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_delimited,
    ".tsv": read_delimited,
    ".xml": read_feed,
    ".rss": read_feed,
    ".atom": read_feed,
    ".feed": read_feed,
    ".warc": read_warc,
    ".warc.gz": read_warc,
    ".arc": read_warc,
    ".arc.gz": read_warc,
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(READERS))
#: Suffixes of two parts (``a.warc.gz``), matched before the last suffix alone.
_COMPOUND_SUFFIXES: tuple[str, ...] = tuple(s for s in SUPPORTED_SUFFIXES if s.count(".") > 1)
#: Documentation files inside a corpus folder, not documents.
SKIPPED_NAMES: frozenset[str] = frozenset({"readme.md"})
_LINKED_FOLDER = (
    "a symbolic link to a folder; linked folders are not followed (they can loop), "
    "pass the folder itself to read it."
)


def file_suffix(path: Path) -> str:
    """The suffix that picks a file's reader, lower case: ``.warc.gz`` for ``a.WARC.gz``, else the last."""
    name = path.name.lower()
    for suffix in _COMPOUND_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return path.suffix.lower()


def read_file(path: Path, file: str) -> Iterator[Record | Rejected]:
    """Read one file with the reader for its suffix.

    Args:
        path: The file to open.
        file: Its source path as reported in Records and Rejected entries.

    Yields:
        Records and Rejected entries. Never raises for a bad file: an unreadable,
        empty or unsupported file, and any error a reader did not expect, become a
        Rejected.
    """
    suffix = file_suffix(path)
    reader = READERS.get(suffix)
    if reader is None:
        shown = f"'{suffix}'" if suffix else "(no suffix)"
        yield Rejected(file, f"unsupported file type {shown}; supported: {', '.join(SUPPORTED_SUFFIXES)}.")
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield Rejected(
            file, f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable."
        )
        return
    if size == 0:
        yield Rejected(file, "empty file (0 bytes); nothing to analyse.")
        return
    try:
        produced = False
        for item in reader(path, file):
            produced = True
            yield item
        if not produced:
            # A header-only CSV or a JSONL file of blank lines: still an input, so it is listed.
            yield Rejected(file, "no documents in the file (only blank lines, or a header without rows).")
    except OSError as exc:
        yield Rejected(
            file, f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable."
        )
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        yield Rejected(
            file, f"unexpected error while reading the file ({type(exc).__name__}: {exc}); please report it."
        )


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(root: Path, shown: str) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` in sorted order, depth first, without hidden entries or READMEs.

    An unreadable folder is yielded itself, so that reading it reports why.
    """
    try:
        with os.scandir(root) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError:
        yield root, shown
        return
    for entry in entries:
        if _is_hidden(entry.name):
            continue
        path = Path(entry.path)
        name = f"{shown}/{entry.name}"
        # Symlinked folders are not followed: a link cycle would never end.
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, name)
        elif entry.name.lower() not in SKIPPED_NAMES:
            yield path, name


def _inputs(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    return [Path(p) for p in paths]


def read_corpus(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    errors: list[Rejected] | None = None,
) -> Iterator[Record]:
    """Read documents from files and folders.

    A folder is walked recursively in sorted order. Hidden files and folders (names
    starting with ``.``) are skipped, and so are files named ``README.md`` (any case):
    they document the corpus and are not part of it. Symlinked folders are not
    followed. A file named explicitly is always read.

    Formats by suffix: ``.txt``/``.md`` (optional YAML front matter), ``.html``/``.htm``,
    ``.pdf``, ``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, RSS/Atom feeds
    (``.xml``, ``.rss``, ``.atom``, ``.feed``) and web archives (``.warc``, ``.warc.gz``,
    ``.arc``, ``.arc.gz``). Any other suffix is rejected.

    A Record's ``source`` is the path as given, joined with the path inside a walked
    folder (``corpus/news/a.html``), plus ``:line N`` / ``:item N`` / ``:offset N`` (the
    byte offset of a web archive's record) for records inside a file; it is stable
    across runs.

    Args:
        paths: A file or folder, or a list of them.
        errors: Every input that cannot be analysed (a file, a line, a feed item) is
            appended as a :class:`~hrdiscourse.types.Rejected` and reading goes on.
            When None, the first one raises :class:`~hrdiscourse.errors.IngestError`.

    Yields:
        One :class:`~hrdiscourse.types.Record` per document, lazily. The inputs are
        exactly the Records yielded plus the entries appended to ``errors``.

    Raises:
        IngestError: On the first rejected input, when ``errors`` is None.
    """
    for given in _inputs(paths):
        shown = given.as_posix()
        if given.is_dir():
            files: Iterable[tuple[Path, str]] = _walk(given, shown.rstrip("/") or "/")
        else:
            files = [(given, shown)]
        for path, name in files:
            items: Iterable[Record | Rejected]
            if not path.exists() and not path.is_symlink():
                items = [Rejected(name, "no such file or directory; check the path.")]
            elif path.is_symlink() and path.is_dir():
                items = [Rejected(name, _LINKED_FOLDER)]
            elif path.is_dir():
                items = [Rejected(name, "cannot list the folder; check that it is readable.")]
            else:
                items = read_file(path, name)
            for item in items:
                if isinstance(item, Record):
                    yield item
                elif errors is None:
                    where = f"{item.source}: {item.location}" if item.location else item.source
                    raise IngestError(f"{where}: {item.reason}", source=item.source, location=item.location)
                else:
                    errors.append(item)
