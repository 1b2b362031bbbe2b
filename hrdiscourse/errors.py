"""Exceptions and the one warning class of hrdiscourse.

Messages say what went wrong, where (file, line or field), what was expected,
and the fix. Only ``cli.py`` turns an :class:`HRDiscourseError` into a message
and an exit status.
"""

from __future__ import annotations


class HRDiscourseError(Exception):
    """Base class for all hrdiscourse errors."""


class IngestError(HRDiscourseError):
    """A source document could not be read."""

    def __init__(self, message: str, *, source: str = "", location: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.location = location


class LexiconError(HRDiscourseError, ValueError):
    """A lexicon file is malformed."""


class ModelError(HRDiscourseError):
    """A spaCy pipeline or a trained classifier could not be loaded."""


class ConfigError(HRDiscourseError, ValueError):
    """An option or argument has a value the tool cannot use."""


class StoreError(HRDiscourseError):
    """The result store could not be opened, read or written."""


class ResultsError(ConfigError, IngestError, StoreError):
    """The output folder of a run is incomplete: ``documents.jsonl`` missing, or a bad line.

    One reader (:mod:`hrdiscourse.results`) serves :meth:`Corpus.from_dir
    <hrdiscourse.api.Corpus.from_dir>`, :meth:`Store.add_run
    <hrdiscourse.store.Store.add_run>` and :func:`~hrdiscourse.reports.rebuild_reports`,
    which documented :class:`ConfigError`, :class:`StoreError` and :class:`IngestError`
    for these problems; this class is all three, so each still raises what it documents.
    ``source`` is the file, ``location`` the line (``line 12``) or empty.
    """

    def __init__(self, message: str, *, source: str = "", line: int = 0) -> None:
        super().__init__(message, source=source, location=f"line {line}" if line else "")
        self.line = line


class HRDiscourseWarning(UserWarning):
    """Warnings from hrdiscourse (unparseable dates, version mismatches, ...)."""
