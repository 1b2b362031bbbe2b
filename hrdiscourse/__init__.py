"""hrdiscourse: find harm-reduction framing and its co-optation in text corpora.

Public API: :func:`load_pipeline`, :func:`analyze`, :func:`audit`, :func:`read_corpus`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_pipeline", "analyze", "audit", "read_corpus"]


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
    if name == "read_corpus":
        from .ingest import read_corpus

        return read_corpus
    raise AttributeError(f"module 'hrdiscourse' has no attribute {name!r}")
