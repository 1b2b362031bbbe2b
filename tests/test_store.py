"""The DuckDB result store: tables, idempotent runs, ``known``, Parquet export, queries."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hrdiscourse.errors import ConfigError
from hrdiscourse.runner import content_hash
from hrdiscourse.store import TABLES, Store, StoreError


def _unique(results: list[dict]) -> list[dict]:
    return list({r["doc_id"]: r for r in results}.values())


def _expected_rows(results: list[dict]) -> dict[str, int]:
    return {
        "documents": len(results),
        "labels": len(results),
        "mentions": sum(len(r["hr_mentions"]) for r in results),
        "signals": sum(len(r["signals"]) for r in results),
        "links": sum(len(r["links"]) for r in results),
    }


def _run_dir(tmp_path: Path, results: list[dict], manifest: dict) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    lines = [json.dumps({**r, "content_hash": content_hash(r["text"])}) for r in results]
    (run / "documents.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run


@pytest.mark.parametrize("table", ["documents", "labels", "mentions", "signals", "links"])
def test_store_add_results_fills_every_table(report_results: list[dict], table: str) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        assert store.add_results(results, "r1") == len(results)
        assert len(store.table(table)) == _expected_rows(results)[table]


@pytest.mark.parametrize("times", [2, 3])
def test_store_add_results_again_replaces_the_run(report_results: list[dict], times: int) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        for _ in range(times):
            store.add_results(results, "r1")
        store.add_results(results[:2], "r2")
        counts = store.query("SELECT run_id, count(*) AS n FROM documents GROUP BY run_id ORDER BY run_id")
    assert counts.to_dict("records") == [{"run_id": "r1", "n": len(results)}, {"run_id": "r2", "n": 2}]


@pytest.mark.parametrize("repeat", [1, 2])
def test_store_same_doc_id_in_one_batch_keeps_the_last(report_results: list[dict], repeat: int) -> None:
    doc = dict(report_results[0])
    later = {**doc, "label": "none"}
    with Store(":memory:") as store:
        store.add_results([doc] * repeat + [later], "r1")
        labels = store.table("labels")
    assert labels["label"].tolist() == ["none"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"url": "USE_URL"}, True),
        ({"content_hash": "USE_HASH"}, True),
        ({"url": "https://example.org/never-seen", "content_hash": "USE_HASH"}, True),
        ({"url": "https://example.org/never-seen"}, False),
        ({"content_hash": "0" * 40}, False),
        ({}, False),
        ({"url": "", "content_hash": ""}, False),
    ],
)
def test_store_known_by_url_or_content_hash(report_results: list[dict], query: dict, expected: bool) -> None:
    doc = next(r for r in report_results if r.get("url"))
    values = {"USE_URL": doc["url"], "USE_HASH": content_hash(doc["text"])}
    with Store(":memory:") as store:
        store.add_results([doc], "r1")
        assert store.known(**{k: values.get(v, v) for k, v in query.items()}) is expected


@pytest.mark.parametrize("times", [1, 2])
def test_store_add_run_reads_a_run_folder(
    tmp_path: Path, report_results: list[dict], report_manifest: dict, times: int
) -> None:
    results = _unique(report_results)
    run = _run_dir(tmp_path, results, report_manifest)
    with Store(tmp_path / "results.duckdb") as store:
        ids = {store.add_run(run) for _ in range(times)}
        runs = store.runs()
        docs = store.table("documents")
    assert len(ids) == 1 and runs["run_id"].tolist() == list(ids)
    assert runs.loc[0, "mode"] == report_manifest["mode"]
    assert len(docs) == len(results)
    assert set(docs["content_hash"]) == {content_hash(r["text"]) for r in results}


@pytest.mark.parametrize("table", TABLES)
def test_store_to_parquet_round_trips(tmp_path: Path, report_results: list[dict], table: str) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        store.add_results(results, "r1")
        paths = store.to_parquet(tmp_path / "export")
        expected = store.table(table)
    assert {p.name for p in paths} == {f"{t}.parquet" for t in TABLES}
    back = pd.read_parquet(tmp_path / "export" / f"{table}.parquet")
    assert list(back.columns) == list(expected.columns)
    assert len(back) == len(expected)


@pytest.mark.parametrize("label", ["coopted", "critical", "none"])
def test_store_documents_filters_by_label(report_results: list[dict], label: str) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        store.add_results(results, "r1")
        frame = store.documents(label=label)
        counts = store.label_counts()
    assert sorted(frame["doc_id"]) == sorted(r["doc_id"] for r in results if r["label"] == label)
    assert int(counts.set_index("label").loc[label, "n"]) == len(frame)


@pytest.mark.parametrize("field", ["start", "end", "sent_start"])
def test_store_keeps_character_offsets(report_results: list[dict], field: str) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        store.add_results(results, "r1")
        stored = store.query(f'SELECT doc_id, id, "{field}" AS v FROM mentions')
    expected = {(r["doc_id"], m["id"]): m[field] for r in results for m in r["hr_mentions"]}
    assert {(d, i): v for d, i, v in stored.itertuples(index=False)} == expected


@pytest.mark.parametrize("by", ["doc_type", "outlet", "year", "run_id"])
def test_store_label_counts_add_up(report_results: list[dict], by: str) -> None:
    results = _unique(report_results)
    with Store(":memory:") as store:
        store.add_results(results, "r1")
        counts = store.label_counts(by=by)
    assert counts["n"].sum() == len(results)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda s, p: s.add_run(p / "missing"),
            StoreError,
            "documents.jsonl: not found; give the output folder",
        ),
        (lambda s, p: s.documents(label="sideways"), ConfigError, "label 'sideways' is unknown"),
        (lambda s, p: s.label_counts(by="colour"), ConfigError, "by='colour' is not supported"),
        (lambda s, p: s.table("users"), ConfigError, "table 'users' is unknown"),
        (lambda s, p: s.add_results([], ""), ConfigError, "run_id is empty"),
    ],
)
def test_store_errors_say_what_and_how(tmp_path: Path, call, error: type, message: str) -> None:
    with Store(":memory:") as store, pytest.raises(error, match=message):
        call(store, tmp_path)


@pytest.mark.parametrize("content", [b"not a database at all\n" * 100])
def test_store_refuses_a_file_that_is_not_duckdb(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.duckdb"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="cannot open the result store"):
        Store(path)
