"""hrdiscourse: find harm-reduction framing and its co-optation in text corpora.

Public API: :func:`load_pipeline`, :func:`analyze`, :func:`audit`, :func:`read_corpus`;
for researchers :class:`Corpus`, :func:`export`, :func:`sample`, :func:`agreement`, :func:`to_gold`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_pipeline",
    "analyze",
    "audit",
    "read_corpus",
    "Corpus",
    "export",
    "sample",
    "agreement",
    "to_gold",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not load spaCy (the CLI's --help stays fast).
    if name == "load_pipeline":
        from .nlp.pipeline import load_pipeline

        return load_pipeline
    if name == "analyze":
        from .api import analyze

        return analyze
    if name == "audit":
        from .audit import audit

        return audit
    if name == "Corpus":
        from .api import Corpus

        return Corpus
    if name == "export":
        from .exports import export

        return export
    if name in ("sample", "agreement", "to_gold"):
        from . import validation

        return getattr(validation, name)
    if name == "read_corpus":
        from .ingest import read_corpus

        return read_corpus
    raise AttributeError(f"module 'hrdiscourse' has no attribute {name!r}")


class _Package(types.ModuleType):
    """The package module: importing the submodule ``hrdiscourse.audit`` must not replace
    the public function ``hrdiscourse.audit`` (``from hrdiscourse.audit import ...`` still
    works, through ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "audit" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
