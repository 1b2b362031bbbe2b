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


class HRDiscourseWarning(UserWarning):
    """Warnings from hrdiscourse (unparseable dates, version mismatches, ...)."""
