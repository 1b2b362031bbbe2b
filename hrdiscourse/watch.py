"""Monitor feeds and folders: analyse only what the store has not seen, report what is new.

``hrdiscourse watch SOURCE... --store FILE --out DIR`` reads every source (RSS/Atom
feeds as files or ``http(s)`` URLs, folders, JSONL and any other format
:func:`hrdiscourse.ingest.read_corpus` reads), skips the items the DuckDB store already
holds (same URL or same content hash), analyses the new ones and writes:

- ``DIR/new.jsonl``: exactly this run's new items, in the ``documents.jsonl`` schema;
- ``DIR/errors.jsonl``: sources or items that could not be fetched or read;
- ``DIR/whats-new.md`` and ``DIR/whats-new.html``: co-opted items first, each with its
  ready-to-paste endnote, then the other labels;
- ``DIR/watch.json``: the run's accounting.

URLs are fetched with :mod:`urllib` (a timeout, a size cap, http and https only); the
bytes go to a temporary file with the right suffix and through the project's safe
readers (feeds are checked for entity expansion and external entities before parsing).
A source that fails is recorded and the others go on.
"""

from __future__ import annotations

import html
import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError, IngestError
from .types import LABELS, Record, Rejected

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "WatchResult", "fetch", "is_url", "watch"]

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
NEW = "new.jsonl"
ERRORS = "errors.jsonl"
SUMMARY = "watch.json"
REPORT_MD = "whats-new.md"
REPORT_HTML = "whats-new.html"

#: Order of the report's sections: what a monitor wants to see first.
REPORT_ORDER: tuple[str, ...] = (
    "coopted",
    "copresent",
    "extension",
    "opposed",
    "critical",
    "aligned",
    "none",
)
_SECTION_TITLES = {
    "coopted": "Co-opted: harm-reduction language tied to co-opting signals",
    "copresent": "Co-present: harm reduction and co-opting signals in the same item",
    "extension": "Extension: harm reduction applied outside its domain",
    "opposed": "Opposed to harm reduction",
    "critical": "Critical of co-optation",
    "aligned": "Aligned with harm-reduction principles",
    "none": "No harm-reduction framing",
}
_CONTENT_SUFFIX = {
    "application/rss+xml": ".rss",
    "application/atom+xml": ".atom",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "text/csv": ".csv",
}


def is_url(source: str) -> bool:
    """Whether ``source`` is an ``http://`` or ``https://`` URL (anything else is a path)."""
    return urllib.parse.urlsplit(source).scheme.lower() in ("http", "https")


def fetch(
    url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[bytes, str]:
    """Download ``url`` with a timeout and a size cap.

    Args:
        url: An ``http`` or ``https`` URL.
        timeout: Seconds for connecting and for each read.
        max_bytes: Larger bodies are refused (the download stops at the cap).

    Returns:
        The body and its media type (``""`` when the server gives none).

    Raises:
        IngestError: For another scheme, an HTTP error status, a network failure, a
            timeout or a body over ``max_bytes``.
    """
    if not is_url(url):
        raise IngestError(f"{url}: only http:// and https:// URLs are fetched.", source=url)
    request = urllib.request.Request(url, headers={"User-Agent": f"hrdiscourse/{__version__} (watch)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise IngestError(_too_big(url, max_bytes), source=url)
            body = bytearray()
            while chunk := response.read(min(1 << 16, max_bytes + 1 - len(body))):
                body += chunk
                if len(body) > max_bytes:
                    raise IngestError(_too_big(url, max_bytes), source=url)
            media = (response.headers.get_content_type() or "").lower()
    except urllib.error.HTTPError as exc:
        raise IngestError(
            f"{url}: the server answered HTTP {exc.code} ({exc.reason}); check the feed address.", source=url
        ) from exc
    except urllib.error.URLError as exc:
        raise IngestError(
            f"{url}: cannot fetch ({exc.reason}); check the address and the network.", source=url
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise IngestError(
            f"{url}: no complete answer within {timeout:g} s ({type(exc).__name__}); try again later "
            "or raise --timeout.",
            source=url,
        ) from exc
    return bytes(body), media


def _too_big(url: str, max_bytes: int) -> str:
    return (
        f"{url}: the answer is larger than {max_bytes / 1e6:g} MB; raise --max-mb if the source is trusted."
    )


def _suffix_for(url: str, media: str, body: bytes) -> str:
    """The reader suffix of a fetched body: the URL's own, else its media type, else a feed."""
    from .ingest import READERS, file_suffix

    suffix = file_suffix(Path(urllib.parse.urlsplit(url).path))
    if suffix in READERS:
        return suffix
    if media in _CONTENT_SUFFIX:
        return _CONTENT_SUFFIX[media]
    head = body[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return ".pdf"
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return ".html"
    return ".xml"


@dataclass
class WatchResult:
    """The accounting of one watch run: ``inputs == new + known + duplicates``."""

    run_id: str
    started: str
    inputs: int = 0
    new: int = 0
    known: int = 0
    duplicates: int = 0
    errors: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    paths: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started": self.started,
            "inputs": self.inputs,
            "new": self.new,
            "known": self.known,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "labels": {lab: self.labels.get(lab, 0) for lab in LABELS},
            "paths": [str(p) for p in self.paths],
        }


def _read_sources(
    sources: Sequence[str | Path],
    rejected: list[Rejected],
    tmp: Path,
    *,
    timeout: float,
    max_bytes: int,
) -> Iterator[Record]:
    from .ingest import read_corpus, read_file

    for n, source in enumerate(sources):
        given = str(source)
        if not is_url(given):
            yield from read_corpus(given, errors=rejected)
            continue
        try:
            body, media = fetch(given, timeout=timeout, max_bytes=max_bytes)
        except IngestError as exc:
            rejected.append(Rejected(given, str(exc).removeprefix(f"{given}: ")))
            continue
        path = tmp / f"source-{n}{_suffix_for(given, media, body)}"
        path.write_bytes(body)
        try:
            for item in read_file(path, given):
                if isinstance(item, Record):
                    yield item
                else:
                    rejected.append(item)
        finally:
            path.unlink(missing_ok=True)


def watch(
    sources: Sequence[str | Path],
    *,
    store: str | Path,
    out_dir: str | Path,
    model: str = "auto",
    mode: str = "default",
    batch_size: int = 16,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
) -> WatchResult:
    """Analyse the items of ``sources`` that ``store`` has not seen and report them.

    Args:
        sources: Feed/file/folder paths and ``http(s)`` URLs.
        store: DuckDB file (:class:`hrdiscourse.store.Store`); created if missing; the
            new items are added to it, so the next run skips them.
        out_dir: Folder for ``new.jsonl``, ``errors.jsonl``, ``watch.json`` and the
            "what's new" reports (overwritten on each run).
        model: spaCy pipeline name or path.
        mode: ``default``, ``full`` or ``fast``.
        batch_size: Documents per ``nlp.pipe`` batch.
        timeout: Seconds allowed per URL connection and read.
        max_bytes: Largest body fetched from a URL.
        workers: Worker processes (see :func:`hrdiscourse.engines.make_engine`).
        engine: ``local`` or ``dask``.
        scheduler: Existing Dask scheduler address.

    Returns:
        The run's accounting and the files written.

    Raises:
        ConfigError: For no sources or a bad option value.
        StoreError: When the store cannot be opened.
    """
    from .engines import make_engine
    from .runner import MODES, content_hash
    from .store import Store

    if not sources:
        raise ConfigError("no sources given; pass feed URLs, feed files or folders to watch.")
    if mode not in MODES:
        raise ConfigError(
            f"mode {mode!r} is not one of {', '.join(MODES)}; use --mode default, full or fast."
        )
    if timeout <= 0 or max_bytes <= 0:
        raise ConfigError("timeout and max size must be positive; give --timeout > 0 and --max-mb > 0.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    result = WatchResult(run_id=f"watch-{started}-{Store.run_id_for(out, {})[-8:]}", started=started)
    rejected: list[Rejected] = []
    seen: set[str] = set()

    with Store(store) as db, tempfile.TemporaryDirectory(prefix="hrd-watch-") as tmp:
        db.add_run_record(result.run_id, {"started": started, "mode": mode}, out_dir=out.resolve())

        def new_items() -> Iterator[tuple[Record, str]]:
            for record in _read_sources(sources, rejected, Path(tmp), timeout=timeout, max_bytes=max_bytes):
                result.inputs += 1
                h = content_hash(record.text)
                if h in seen:
                    result.duplicates += 1
                elif db.known(url=record.meta.get("url"), content_hash=h):
                    result.known += 1
                else:
                    seen.add(h)
                    yield record, h

        analyzer = make_engine(model=model, mode=mode, engine=engine, workers=workers, scheduler=scheduler)
        pending: list[dict[str, Any]] = []
        try:
            with (out / NEW).open("w", encoding="utf-8") as fh:
                for _, h, res in analyzer.analyze_records(new_items(), batch_size=batch_size):
                    res["content_hash"] = h
                    fh.write(json.dumps(res, ensure_ascii=False) + "\n")
                    result.new += 1
                    result.labels[res["label"]] += 1
                    pending.append(res)
                    if len(pending) >= 200:
                        db.add_results(pending, result.run_id)
                        pending = []
            db.add_results(pending, result.run_id)
            model_info, lexicons = analyzer.model_info(), analyzer.lexicon_versions()
        finally:
            analyzer.close()
        result.errors = len(rejected)
        db.add_run_record(
            result.run_id,
            {
                "started": started,
                "mode": mode,
                "inputs": result.inputs + result.errors,
                "analysed": result.new,
                "errors": result.errors,
                "duplicates": result.duplicates + result.known,
                "hrdiscourse": __version__,
                "model": model_info,
                "lexicons": lexicons,
            },
            out_dir=out.resolve(),
        )

    with (out / ERRORS).open("w", encoding="utf-8") as fh:
        for item in rejected:
            fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    result.paths = [out / NEW, out / ERRORS, out / REPORT_MD, out / REPORT_HTML, out / SUMMARY]
    items = list(_load(out / NEW))
    (out / REPORT_MD).write_text(whats_new_markdown(items, result, rejected), encoding="utf-8")
    (out / REPORT_HTML).write_text(whats_new_html(items, result, rejected), encoding="utf-8")
    (out / SUMMARY).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return result


def _load(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _ordered(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items by report section (co-opted first), keeping input order within a section."""
    rank = {lab: i for i, lab in enumerate(REPORT_ORDER)}
    return sorted(items, key=lambda r: rank.get(str(r.get("label")), len(REPORT_ORDER)))


def item_endnote(result: dict[str, Any]) -> tuple[str, str]:
    """The ready-to-paste endnote of one item: (plain text, Markdown), without a numeral."""
    from .reports.citations import endnote_markdown, endnotes

    notes = endnotes([result])
    if not notes:
        return "", ""
    md = endnote_markdown(notes[0])
    # Drop the list marker and numeral ("- i. "): the note is numbered where it is pasted.
    md = md.split(". ", 1)[1] if md.startswith("- ") else md
    return notes[0].text, md


def _summary_line(result: WatchResult) -> str:
    labels = ", ".join(f"{result.labels[lab]} {lab}" for lab in REPORT_ORDER if result.labels.get(lab))
    return (
        f"{result.new} new item(s){f' ({labels})' if labels else ''}; {result.known} already in the store; "
        f"{result.duplicates} repeated in this run; {result.errors} source(s) or item(s) could not be read."
    )


def _evidence(res: dict[str, Any]) -> str:
    ev = res.get("evidence") or []
    return " ".join(str(ev[0].get("sentence") or "").split()) if ev else ""


def whats_new_markdown(items: list[dict[str, Any]], result: WatchResult, rejected: list[Rejected]) -> str:
    """The "what's new" report as Markdown (co-opted items first, each with its endnote)."""
    from .reports.citations import endnotes, format_citation, to_markdown

    lines = [f"# What's new ({result.started})", "", _summary_line(result), ""]
    ordered = _ordered(items)
    for label in REPORT_ORDER:
        group = [r for r in ordered if r.get("label") == label]
        if not group:
            continue
        lines += [f"## {_SECTION_TITLES[label]} ({len(group)})", ""]
        if label == "none":
            lines += ["| title | outlet | date | url |", "|---|---|---|---|"]
            for r in group:
                cells = [
                    str(r.get(k) or "").replace("|", "\\|").replace("\n", " ") for k in ("title", "outlet")
                ]
                cells += [str(r.get("date") or ""), str(r.get("url") or "")]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
            continue
        for r in group:
            _, note_md = item_endnote(r)
            lines += [f"### {r.get('title') or r.get('doc_id')}", ""]
            lines.append(f"{format_citation(r, lang='fr' if r.get('language') == 'fr' else 'en')}")
            lines.append("")
            if note_md:
                lines += ["Endnote:", "", f"> {note_md}", ""]
            if _evidence(r):
                lines += [f"Evidence: “{_evidence(r)}”", ""]
    notes = endnotes(_ordered(items))
    if notes:
        lines += ["## Endnotes for this batch", "", to_markdown(notes)]
    if rejected:
        lines += ["## Could not be read", ""]
        for item in rejected:
            where = f"{item.source} ({item.location})" if item.location else item.source
            lines.append(f"- {where}: {item.reason}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def whats_new_html(items: list[dict[str, Any]], result: WatchResult, rejected: list[Rejected]) -> str:
    """The "what's new" report as a standalone HTML page (every value escaped, no script)."""
    from .reports.citations import format_citation, safe_url

    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>What's new ({e(result.started)})</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}blockquote{border-left:4px solid #b33;margin:0;padding:.3rem 1rem;"
        "background:#faf5f5}"
        ".label{font-variant:small-caps;font-weight:600}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2rem .5rem}</style></head><body>",
        f"<h1>What's new <small>({e(result.started)})</small></h1>",
        f"<p>{e(_summary_line(result))}</p>",
    ]
    ordered = _ordered(items)
    for label in REPORT_ORDER:
        group = [r for r in ordered if r.get("label") == label]
        if not group:
            continue
        parts.append(f'<section id="{label}"><h2>{e(_SECTION_TITLES[label])} ({len(group)})</h2>')
        if label == "none":
            parts.append("<table><tr><th>title</th><th>outlet</th><th>date</th></tr>")
            for r in group:
                url = safe_url(r.get("url"))
                title = e(str(r.get("title") or r.get("doc_id") or ""))
                title = f'<a href="{e(url)}" rel="noopener noreferrer">{title}</a>' if url else title
                parts.append(
                    f"<tr><td>{title}</td><td>{e(str(r.get('outlet') or ''))}</td>"
                    f"<td>{e(str(r.get('date') or ''))}</td></tr>"
                )
            parts.append("</table></section>")
            continue
        for r in group:
            note, _ = item_endnote(r)
            url = safe_url(r.get("url"))
            title = e(str(r.get("title") or r.get("doc_id") or ""))
            title = f'<a href="{e(url)}" rel="noopener noreferrer">{title}</a>' if url else title
            parts.append(f'<article><h3>{title} <span class="label">{e(label)}</span></h3>')
            parts.append(f"<p>{e(format_citation(r, lang='fr' if r.get('language') == 'fr' else 'en'))}</p>")
            if note:
                parts.append(f"<p>Endnote:</p><blockquote>{e(note)}</blockquote>")
            if _evidence(r):
                parts.append(f"<p>Evidence: “{e(_evidence(r))}”</p>")
            parts.append("</article>")
        parts.append("</section>")
    if rejected:
        parts.append("<section><h2>Could not be read</h2><ul>")
        for item in rejected:
            where = f"{item.source} ({item.location})" if item.location else item.source
            parts.append(f"<li><code>{e(where)}</code>: {e(item.reason)}</li>")
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
