"""The batch run behind ``hrdiscourse analyze``: ingest → nlp → classify → outputs.

Writes, under ``out_dir``:

- ``documents.jsonl``: one line per analysed document (schema in ``docs/schema.md``),
  written whole line by whole line and flushed, so a killed run never leaves half a
  record that ``--resume`` would trust;
- ``errors.jsonl``: one line per rejected input (source, location, reason);
- ``manifest.json``: the accounting ``analysed + errors + duplicates == inputs``, the
  model, lexicon versions, mode and duration;
- ``docs/<safe id>.json``: the per-document result;
- the reports (``index.html``, ``corpus.md``, ``endnotes.md``, ...) from
  :func:`hrdiscourse.reports.write_reports`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from . import __version__
from .errors import ConfigError
from .types import Record, Rejected

Mode = Literal["default", "full", "fast"]
MODES: tuple[str, ...] = ("default", "full", "fast")

DOCUMENTS = "documents.jsonl"
ERRORS = "errors.jsonl"
MANIFEST = "manifest.json"

#: Longest text analysed, in characters: spaCy's ``Language.max_length``, the same in every
#: mode and engine. Longer texts are rejected with this reason rather than crashing the run.
MAX_CHARS = 1_000_000
_LOCATION_RE = re.compile(r":((?:line|item|row) \d+)$")


@dataclass
class RunStats:
    """Running accounting of a batch; ``inputs == analysed + errors + duplicates``."""

    analysed: int = 0
    errors: int = 0
    duplicates: int = 0
    resumed: int = 0
    words: int = 0
    duplicate_sources: list[dict[str, str]] = field(default_factory=list)

    @property
    def inputs(self) -> int:
        return self.analysed + self.errors + self.duplicates


def content_hash(text: str) -> str:
    """Hash of the whitespace-normalised text, to spot the same document twice."""
    norm = " ".join(text.split()).casefold()
    return hashlib.sha1(norm.encode("utf-8")).hexdigest()


def seen_key(value: str) -> bytes:
    """16-byte key of a doc id or content hash in the run's seen sets.

    A long run keeps one id and one hash per document; as 16-byte digests they take
    about half the memory of the strings (a 40-character hex hash, an id of any length).
    """
    return hashlib.blake2b(value.encode("utf-8"), digest_size=16).digest()


def safe_name(doc_id: str) -> str:
    """A file name for ``doc_id`` that stays inside its folder on every OS.

    Keeps ASCII letters, digits, ``-``, ``_`` and ``.`` (never a leading dot), and adds a
    short hash whenever anything was changed so that two ids never collide.
    """
    kept = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else "_" for c in doc_id)
    kept = kept.lstrip(".")[:80] or "doc"
    if kept != doc_id:
        kept = f"{kept}-{hashlib.sha1(doc_id.encode('utf-8')).hexdigest()[:8]}"
    return kept


def _read_done(path: Path) -> tuple[set[str], set[str]]:
    """Doc ids and content hashes of complete lines of an earlier run; drops a torn tail."""
    ids: set[str] = set()
    hashes: set[str] = set()
    if not path.exists():
        return ids, hashes
    good_bytes = 0
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except ValueError:  # JSONDecodeError, or UnicodeDecodeError for a mangled line
                break
            if not isinstance(rec, dict) or not isinstance(rec.get("doc_id"), str):
                break
            ids.add(rec["doc_id"])
            if rec.get("content_hash"):
                hashes.add(rec["content_hash"])
            good_bytes += len(raw)
    if good_bytes != path.stat().st_size:
        # A line cut off by a kill (or anything after an unreadable line): drop it, the
        # documents are analysed again.
        with path.open("r+b") as fh:
            fh.truncate(good_bytes)
    return ids, hashes


class _LineWriter:
    """Append whole JSON lines, flushed and fsynced in batches."""

    def __init__(self, path: Path, *, append: bool) -> None:
        self.path = path
        self._fh = path.open("a" if append else "w", encoding="utf-8")
        self._pending = 0

    def write(self, obj: dict[str, Any]) -> None:
        self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._pending += 1
        if self._pending >= 64:
            self.sync()

    def sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._pending = 0

    def close(self) -> None:
        self.sync()
        self._fh.close()


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def too_long(record: Record, max_chars: int) -> Rejected:
    """The rejection of a record whose text is longer than ``max_chars``."""
    source, location = record.source, ""
    if m := _LOCATION_RE.search(source):
        source, location = source[: m.start()], m.group(1)
    fix = "split it into smaller documents (one file per article, chapter or section)"
    if max_chars < MAX_CHARS:
        fix += f", or raise --max-chars (up to {MAX_CHARS:,})"
    length = len(record.text)
    reason = f"text too long: {length:,} characters, above the limit of {max_chars:,} (--max-chars); {fix}."
    return Rejected(source, reason, location)


def _within_limit(records: Iterable[Record], max_chars: int, rejected: list[Rejected]) -> Iterator[Record]:
    for record in records:
        if len(record.text) > max_chars:
            rejected.append(too_long(record, max_chars))
        else:
            yield record


def _unique_records(
    records: Iterable[Record],
    stats: RunStats,
    seen_ids: set[bytes],
    seen_hashes: set[bytes],
    done_ids: set[str],
) -> Iterator[tuple[Record, str]]:
    """Records not seen before; ``seen_ids``/``seen_hashes`` hold :func:`seen_key` digests."""
    for record in records:
        h = content_hash(record.text)
        id_key, h_key = seen_key(record.doc_id), seen_key(h)
        if record.doc_id in done_ids:
            # Written by the interrupted run: keep its line. Only the first record with this id
            # is that line; a later one is a duplicate, as it was in the interrupted run.
            done_ids.discard(record.doc_id)
            seen_ids.add(id_key)
            seen_hashes.add(h_key)
            stats.resumed += 1
            continue
        if id_key in seen_ids or h_key in seen_hashes:
            stats.duplicates += 1
            stats.duplicate_sources.append({"source": record.source, "doc_id": record.doc_id})
            continue
        seen_ids.add(id_key)
        seen_hashes.add(h_key)
        yield record, h


def run_analysis(
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    model: str = "auto",
    mode: Mode = "default",
    batch_size: int = 16,
    resume: bool = False,
    write_reports: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    store: str | Path | None = None,
    max_chars: int = MAX_CHARS,
) -> dict[str, Any]:
    """Analyse every input and write the run's outputs under ``out_dir``.

    Args:
        inputs: files or folders (walked recursively).
        out_dir: output folder, created if needed.
        model: spaCy pipeline name or path, ``"auto"`` for the installed English one.
        mode: ``default`` (fast lexical pass, trained pipeline near mentions), ``full``
            or ``fast``.
        batch_size: documents per ``nlp.pipe`` batch.
        resume: keep the complete lines of an earlier run in ``out_dir`` and analyse
            only what is missing.
        write_reports: also write the HTML/Markdown reports.
        progress: called with the number of inputs just accounted for.
        workers: worker processes (``engine="local"``) or LocalCluster workers (``"dask"``);
            each loads the pipeline once (see :mod:`hrdiscourse.engines`).
        engine: ``local`` or ``dask``.
        scheduler: address of an existing Dask scheduler (``engine="dask"``).
        store: DuckDB file the run's results are added to (:class:`hrdiscourse.store.Store`).
        max_chars: longest text analysed (1 to :data:`MAX_CHARS`); a longer one is rejected
            with its length and the limit in ``errors.jsonl``.

    Returns:
        The manifest, also written to ``manifest.json``.
    """
    from .engines import make_engine
    from .ingest import read_corpus

    if mode not in MODES:
        raise ConfigError(
            f"mode {mode!r} is not one of {', '.join(MODES)}; use --mode default, full or fast."
        )
    if not 1 <= max_chars <= MAX_CHARS:
        raise ConfigError(
            f"--max-chars {max_chars} is out of range; give 1 to {MAX_CHARS:,} (spaCy analyses at most "
            f"{MAX_CHARS:,} characters per document) and split longer documents."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(exist_ok=True)
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")

    seen_ids: set[bytes] = set()
    seen_hashes: set[bytes] = set()
    done_ids: set[str] = set()
    if resume:
        done_ids, done_hashes = _read_done(out / DOCUMENTS)
        seen_hashes = {seen_key(h) for h in done_hashes}
    stats = RunStats()
    rejected: list[Rejected] = []
    docs_out = _LineWriter(out / DOCUMENTS, append=resume)
    errors_out = _LineWriter(out / ERRORS, append=False)
    analyzer = make_engine(model=model, mode=mode, engine=engine, workers=workers, scheduler=scheduler)
    reported_errors = 0

    def flush_errors() -> None:
        nonlocal reported_errors
        while reported_errors < len(rejected):
            errors_out.write(rejected[reported_errors].to_dict())
            reported_errors += 1
            stats.errors += 1
            if progress:
                progress(1)

    def records() -> Iterator[tuple[Record, str]]:
        readable = _within_limit(read_corpus(inputs, errors=rejected), max_chars, rejected)
        for item in _unique_records(readable, stats, seen_ids, seen_hashes, done_ids):
            flush_errors()
            yield item
        flush_errors()

    before = stats.duplicates + stats.resumed
    try:
        for record, h, result in analyzer.analyze_records(records(), batch_size=batch_size):
            if isinstance(result, Rejected):
                rejected.append(result)
                flush_errors()
                continue
            result["content_hash"] = h
            # The per-document file first: a line in documents.jsonl (which --resume trusts)
            # then always has its docs/<id>.json, even when the run is killed in between.
            _write_json_atomic(out / "docs" / f"{safe_name(record.doc_id)}.json", result)
            docs_out.write(result)
            stats.analysed += 1
            stats.words += len(record.text.split())
            if progress:
                skipped = stats.duplicates + stats.resumed - before
                before = stats.duplicates + stats.resumed
                progress(1 + skipped)
        flush_errors()
        model_info, lexicons = analyzer.model_info(), analyzer.lexicon_versions()
    finally:
        docs_out.close()
        errors_out.close()
        analyzer.close()

    analysed_total = stats.analysed + stats.resumed
    manifest: dict[str, Any] = {
        "hrdiscourse": __version__,
        "started": started_at,
        "inputs": analysed_total + stats.errors + stats.duplicates,
        "analysed": analysed_total,
        "errors": stats.errors,
        "duplicates": stats.duplicates,
        "duplicate_sources": stats.duplicate_sources,
        "resumed": stats.resumed,
        "words": stats.words,
        "mode": mode,
        "model": model_info,
        "lexicons": lexicons,
        "duration_s": round(time.perf_counter() - started, 3),
    }
    _write_json_atomic(out / MANIFEST, manifest)
    if store is not None:
        from .store import Store

        with Store(store) as db:
            db.add_run(out)
    if write_reports:
        from .reports import rebuild_reports

        rebuild_reports(out)
    return manifest
