"""Shared data types: the :class:`Record` a reader yields and the :class:`Rejected`
entry a bad input becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DocType = Literal["news", "government", "funding_call", "ngo", "academic", "other"]
DOC_TYPES: tuple[str, ...] = ("news", "government", "funding_call", "ngo", "academic", "other")

#: Metadata keys a Record may carry (all optional but ``doc_id`` and ``source``).
META_KEYS: tuple[str, ...] = (
    "doc_id",
    "source",
    "url",
    "title",
    "author",
    "date",
    "outlet",
    "doc_type",
    "language",
)

#: The thirteen co-opting signal categories of DOMAIN.md §1 (lexicon labels, lower-cased).
COOPTING_CATEGORIES: tuple[str, ...] = (
    "exit_abstinence",
    "relapse_pathologizing",
    "rescue_saving",
    "trafficking_exploitation",
    "victim_deviance",
    "law_enforcement",
    "criminalization_prohibition",
    "conditional_support",
    "surveillance_profiling",
    "behaviour_control",
    "nuisance_public_order",
    "moral_balancing",
    "eradication_ideal",
)

LABELS: tuple[str, ...] = ("none", "aligned", "coopted", "copresent", "critical", "extension", "opposed")


@dataclass
class Record:
    """One input document: its text and its metadata.

    ``meta`` holds the keys of :data:`META_KEYS`; ``doc_id`` and ``source`` are
    always set by the readers, the others are ``None`` when unknown.
    """

    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return str(self.meta.get("doc_id") or "")

    @property
    def source(self) -> str:
        return str(self.meta.get("source") or "")


@dataclass
class Rejected:
    """An input that could not be analysed, with a reason a person understands.

    ``source`` is the file path; ``location`` the line (``line 12``) or item
    (``item 3``) within it, empty for a whole file.
    """

    source: str
    reason: str
    location: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "location": self.location, "reason": self.reason}
