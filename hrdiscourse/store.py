"""Embedded result store (DuckDB) and Parquet export.

One DuckDB file holds every run's results in six tables, so a researcher can query a
growing corpus with SQL or pandas and a monitor (``hrdiscourse watch``) can tell which
items it has already seen:

- ``runs``: one row per run (manifest fields);
- ``documents``: metadata, text and content hash of each analysed document;
- ``labels``: label, one score column per label, evidence and annotation;
- ``mentions``, ``signals``, ``links``: the spans and links of ``documents.jsonl``.

Every row carries ``run_id``; a document is identified by ``(run_id, doc_id)``.
Adding a run again replaces its rows, so ``add_run`` is idempotent.

```python
from hrdiscourse.store import Store

with Store("results.duckdb") as store:
    run_id = store.add_run("reports/sample")
    store.label_counts(by="doc_type")          # a pandas DataFrame
    store.to_parquet("exports/")               # one Parquet file per table
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from .errors import ConfigError, StoreError
from .results import DOCUMENTS, MANIFEST, iter_documents, read_manifest
from .types import LABELS

__all__ = ["TABLES", "Store", "StoreError"]

SCHEMA_VERSION = "1"
TABLES: tuple[str, ...] = ("runs", "documents", "labels", "mentions", "signals", "links")

_SPAN_FLAGS = "negated BOOLEAN, hedged BOOLEAN, quoted BOOLEAN, critical BOOLEAN, speaker VARCHAR"
_DDL: dict[str, str] = {
    "runs": """
        run_id VARCHAR PRIMARY KEY, started VARCHAR, added_at VARCHAR, out_dir VARCHAR, mode VARCHAR,
        inputs BIGINT, analysed BIGINT, errors BIGINT, duplicates BIGINT, words BIGINT,
        duration_s DOUBLE, hrdiscourse VARCHAR, model VARCHAR, lexicons VARCHAR""",
    "documents": """
        run_id VARCHAR, doc_id VARCHAR, source VARCHAR, url VARCHAR, title VARCHAR, author VARCHAR,
        date VARCHAR, outlet VARCHAR, doc_type VARCHAR, language VARCHAR, content_hash VARCHAR,
        citation VARCHAR, n_words BIGINT, text VARCHAR, model VARCHAR, lexicons VARCHAR""",
    "labels": "run_id VARCHAR, doc_id VARCHAR, label VARCHAR, "
    + ", ".join(f"score_{lab} DOUBLE" for lab in LABELS)
    + ", evidence VARCHAR, annotation VARCHAR",
    "mentions": f"""
        run_id VARCHAR, doc_id VARCHAR, id VARCHAR, start BIGINT, "end" BIGINT, text VARCHAR,
        entry_id VARCHAR, label VARCHAR, sent_index BIGINT, sentence VARCHAR, sent_start BIGINT,
        {_SPAN_FLAGS}""",
    "signals": f"""
        run_id VARCHAR, doc_id VARCHAR, id VARCHAR, start BIGINT, "end" BIGINT, text VARCHAR,
        entry_id VARCHAR, kind VARCHAR, category VARCHAR, label VARCHAR, sent_index BIGINT,
        sentence VARCHAR, sent_start BIGINT, {_SPAN_FLAGS}""",
    "links": """
        run_id VARCHAR, doc_id VARCHAR, mention VARCHAR, signal VARCHAR, strength VARCHAR,
        sent_distance BIGINT""",
}


def _columns(table: str) -> list[str]:
    """Column names of ``table`` in DDL order (quotes stripped)."""
    cols = []
    for part in _DDL[table].split(","):
        name = part.split()[0].strip('"')
        cols.append(name)
    return cols


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _quote_path(path: Path) -> str:
    # COPY takes no bound parameter for its file name.
    return "'" + str(path).replace("'", "''") + "'"


def _content_hash(result: Mapping[str, Any]) -> str | None:
    if result.get("content_hash"):
        return str(result["content_hash"])
    text = result.get("text")
    if not text:
        return None
    from .runner import content_hash

    return content_hash(str(text))


def _span_rows(run_id: str, doc_id: str, spans: Iterable[Mapping[str, Any]], cols: list[str]) -> list[tuple]:
    rows = []
    for span in spans:
        row: list[Any] = [run_id, doc_id]
        for col in cols[2:]:
            value = span.get(col)
            if col in ("start", "end", "sent_index", "sent_start", "sent_distance"):
                value = _int(value)
            elif col in ("negated", "hedged", "quoted", "critical"):
                value = bool(value)
            else:
                value = _str(value)
            row.append(value)
        rows.append(tuple(row))
    return rows


def _rows_of(result: Mapping[str, Any], run_id: str) -> dict[str, list[tuple]]:
    """The rows one documents.jsonl dict adds to each table (but ``runs``)."""
    doc_id = str(result.get("doc_id") or "")
    text = result.get("text")
    doc = (
        run_id,
        doc_id,
        _str(result.get("source")),
        _str(result.get("url")),
        _str(result.get("title")),
        _str(result.get("author")),
        _str(result.get("date")),
        _str(result.get("outlet")),
        _str(result.get("doc_type")),
        _str(result.get("language")),
        _content_hash(result),
        _str(result.get("citation")),
        len(str(text).split()) if text else 0,
        _str(text),
        _json(result.get("model")),
        _json(result.get("lexicons")),
    )
    scores = result.get("label_scores") or {}
    label = (
        run_id,
        doc_id,
        _str(result.get("label")),
        *[float(scores[lab]) if scores.get(lab) is not None else None for lab in LABELS],
        _json(result.get("evidence") or []),
        _str(result.get("annotation")),
    )
    return {
        "documents": [doc],
        "labels": [label],
        "mentions": _span_rows(run_id, doc_id, result.get("hr_mentions") or [], _columns("mentions")),
        "signals": _span_rows(run_id, doc_id, result.get("signals") or [], _columns("signals")),
        "links": _span_rows(run_id, doc_id, result.get("links") or [], _columns("links")),
    }


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Store:
    """A DuckDB file of analysed documents, their spans, links, labels and runs.

    Args:
        path: The database file, created with its tables if missing. ``":memory:"``
            gives a throw-away in-memory store.
        read_only: Open without write access (several readers may share the file).

    Raises:
        StoreError: When the file cannot be opened (locked by another writer, not a
            DuckDB file, ...).
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(
                f"{self.path}: cannot open the result store ({exc}); check that it is a DuckDB file "
                "and that no other hrdiscourse process is writing to it."
            ) from exc
        if not read_only:
            for table in TABLES:
                self._con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({_DDL[table]})")

    # --- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the database file."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------

    @staticmethod
    def run_id_for(run_dir: str | Path, manifest: Mapping[str, Any]) -> str:
        """A stable id for a run: its start time and a hash of its folder."""
        where = hashlib.sha1(str(Path(run_dir).resolve()).encode("utf-8")).hexdigest()[:8]
        return f"{manifest.get('started') or 'unknown'}-{where}"

    def add_run_record(self, run_id: str, manifest: Mapping[str, Any], *, out_dir: str | Path = "") -> None:
        """Insert or replace the ``runs`` row of ``run_id`` from a manifest dict."""
        row = (
            run_id,
            _str(manifest.get("started")),
            datetime.now(UTC).isoformat(timespec="seconds"),
            str(out_dir),
            _str(manifest.get("mode")),
            _int(manifest.get("inputs")),
            _int(manifest.get("analysed")),
            _int(manifest.get("errors")),
            _int(manifest.get("duplicates")),
            _int(manifest.get("words")),
            float(manifest["duration_s"]) if manifest.get("duration_s") is not None else None,
            _str(manifest.get("hrdiscourse")),
            _json(manifest.get("model")),
            _json(manifest.get("lexicons")),
        )
        self._con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
        self._con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(row))})", list(row))

    def add_results(self, results: Iterable[Mapping[str, Any]], run_id: str, *, batch_size: int = 500) -> int:
        """Add analysed documents (``documents.jsonl`` dicts) under ``run_id``.

        A document already stored under the same ``(run_id, doc_id)`` is replaced.
        Rows are inserted in batches through Arrow, so memory stays bounded by
        ``batch_size`` documents.

        Args:
            results: documents.jsonl dicts.
            run_id: The run they belong to; a bare ``runs`` row is created if missing.
            batch_size: Documents per insert.

        Returns:
            The number of documents added.
        """
        import pyarrow as pa

        if not run_id:
            raise ConfigError("run_id is empty; give the id of the run these results belong to.")
        if not self._con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone():
            self.add_run_record(run_id, {})
        added = 0
        for chunk in _chunks(results, batch_size):
            rows: dict[str, list[tuple]] = {t: [] for t in TABLES if t != "runs"}
            # The same doc_id twice in a batch: the last one wins, as across batches.
            latest = {str(r.get("doc_id") or ""): r for r in chunk}
            for result in latest.values():
                for table, table_rows in _rows_of(result, run_id).items():
                    rows[table].extend(table_rows)
            ids = [r[1] for r in rows["documents"]]
            self._con.execute("BEGIN TRANSACTION")
            try:
                for table, table_rows in rows.items():
                    self._con.execute(
                        f"DELETE FROM {table} WHERE run_id = ? AND doc_id IN (SELECT unnest(?))",
                        [run_id, ids],
                    )
                    if not table_rows:
                        continue
                    cols = _columns(table)
                    arrow = pa.table({c: [r[i] for r in table_rows] for i, c in enumerate(cols)})
                    self._con.register("_incoming", arrow)
                    self._con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
                    self._con.unregister("_incoming")
                self._con.execute("COMMIT")
            except Exception:
                self._con.execute("ROLLBACK")
                raise
            added += len(chunk)
        return added

    def add_run(self, run_dir: str | Path, *, run_id: str | None = None) -> str:
        """Add the results of an ``hrdiscourse analyze`` output folder.

        Reads ``manifest.json`` and ``documents.jsonl``; adding the same folder again
        replaces its rows.

        Args:
            run_dir: The ``--out`` folder of a run.
            run_id: Id to store the run under; default: :meth:`run_id_for`.

        Returns:
            The run id.

        Raises:
            StoreError: When the folder has no ``documents.jsonl``, a line of it is not
                a result, or its manifest is unreadable (a
                :class:`~hrdiscourse.errors.ResultsError`, which is a StoreError).
                Documents read before a bad line may be stored already; fix the file
                and add the run again, which replaces its rows.
        """
        folder = Path(run_dir)
        documents = iter_documents(folder / DOCUMENTS)
        manifest = read_manifest(folder / MANIFEST)
        run_id = run_id or self.run_id_for(folder, manifest)
        for table in TABLES:
            self._con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
        self.add_run_record(run_id, manifest, out_dir=folder.resolve())
        self.add_results(documents, run_id)
        return run_id

    # --- reading -----------------------------------------------------------------------

    def known(self, *, url: str | None = None, content_hash: str | None = None) -> bool:
        """Whether a document with this URL or this content hash is already stored.

        Args:
            url: The document's URL (exact match); ignored when empty.
            content_hash: :func:`hrdiscourse.runner.content_hash` of its text; ignored
                when empty.

        Returns:
            True when either matches a stored document.
        """
        if not url and not content_hash:
            return False
        row = self._con.execute(
            "SELECT 1 FROM documents WHERE (? IS NOT NULL AND url = ?) "
            "OR (? IS NOT NULL AND content_hash = ?) LIMIT 1",
            [url or None, url or None, content_hash or None, content_hash or None],
        ).fetchone()
        return row is not None

    def query(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run SQL against the store and return a pandas DataFrame."""
        return self._con.execute(sql, params or []).df()

    def table(self, name: str, *, run_id: str | None = None) -> Any:
        """A whole table (optionally one run's rows) as a pandas DataFrame."""
        if name not in TABLES:
            raise ConfigError(f"table {name!r} is unknown; expected one of {', '.join(TABLES)}.")
        if run_id is None:
            return self.query(f"SELECT * FROM {name}")
        return self.query(f"SELECT * FROM {name} WHERE run_id = ?", [run_id])

    def runs(self) -> Any:
        """The ``runs`` table, oldest first."""
        return self.query("SELECT * FROM runs ORDER BY started, added_at")

    def documents(self, *, label: str | None = None, run_id: str | None = None) -> Any:
        """Documents joined with their labels (without the text), optionally filtered.

        Args:
            label: Keep only documents with this label.
            run_id: Keep only this run's documents.
        """
        sql = (
            "SELECT d.* EXCLUDE (text, model, lexicons), l.label, l.annotation "
            "FROM documents d JOIN labels l USING (run_id, doc_id) WHERE 1=1"
        )
        params: list[Any] = []
        if label is not None:
            if label not in LABELS:
                raise ConfigError(f"label {label!r} is unknown; expected one of {', '.join(LABELS)}.")
            sql += " AND l.label = ?"
            params.append(label)
        if run_id is not None:
            sql += " AND d.run_id = ?"
            params.append(run_id)
        return self.query(sql + " ORDER BY d.run_id, d.doc_id", params)

    def label_counts(self, *, by: str | None = None) -> Any:
        """Document counts per label, optionally per ``doc_type``, ``outlet``, ``year`` or ``run_id``."""
        groups = {
            None: "",
            "doc_type": "d.doc_type",
            "outlet": "d.outlet",
            "run_id": "d.run_id",
            "year": "substr(d.date, 1, 4)",
        }
        if by not in groups:
            raise ConfigError(f"by={by!r} is not supported; use doc_type, outlet, year or run_id.")
        key = groups[by]
        select = f"{key} AS {by}, " if key else ""
        group = (
            f"GROUP BY {key}, l.label ORDER BY {key}, l.label" if key else "GROUP BY l.label ORDER BY l.label"
        )
        return self.query(
            f"SELECT {select}l.label, count(*) AS n "
            f"FROM documents d JOIN labels l USING (run_id, doc_id) {group}"
        )

    def signal_counts(self, *, strength: str | None = None) -> Any:
        """Co-opting signal categories linked to harm-reduction mentions, most frequent first.

        Args:
            strength: Only links of this strength (``direct``, ``sentence``, ``nearby``,
                ``document``); all when None.
        """
        sql = (
            "SELECT s.category, k.strength, count(*) AS n FROM links k JOIN signals s "
            "ON s.run_id = k.run_id AND s.doc_id = k.doc_id AND s.id = k.signal "
            "WHERE s.kind = 'coopting' AND NOT s.negated AND NOT s.critical"
        )
        params: list[Any] = []
        if strength is not None:
            sql += " AND k.strength = ?"
            params.append(strength)
        return self.query(sql + " GROUP BY s.category, k.strength ORDER BY n DESC, s.category", params)

    def to_parquet(self, folder: str | Path) -> list[Path]:
        """Export every table to ``folder/<table>.parquet`` (zstd-compressed).

        Returns:
            The files written.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for table in TABLES:
            path = out / f"{table}.parquet"
            self._con.execute(f"COPY {table} TO {_quote_path(path)} (FORMAT PARQUET, COMPRESSION ZSTD)")
            paths.append(path)
        return paths
