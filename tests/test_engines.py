"""Engines: ordered bounded fan-out, option errors, and the same results on 2 processes / 2 Dask workers."""

from __future__ import annotations

import json
from concurrent.futures import Future
from pathlib import Path

import pytest

from hrdiscourse.engines import IN_FLIGHT_PER_WORKER, _PartitionEngine, make_engine
from hrdiscourse.errors import ConfigError
from hrdiscourse.runner import run_analysis
from hrdiscourse.types import Record

SMALL = ["corpora/sample/endnote-xiii", "corpora/sample/txt"]


class _StubEngine(_PartitionEngine):
    """Answers each partition with the record ids, and tracks partitions in flight."""

    def __init__(self, workers: int, partition_size: int) -> None:
        super().__init__(model="stub", mode="fast", workers=workers, partition_size=partition_size)
        self.submitted = 0
        self.collected = 0
        self.max_in_flight = 0

    def _submit(self, records: list[Record], batch_size: int) -> Future:
        self.submitted += 1
        self.max_in_flight = max(self.max_in_flight, self.submitted - self.collected)
        fut: Future = Future()
        fut.set_result([{"doc_id": r.doc_id} for r in records])
        return fut

    def _collect(self, item):  # type: ignore[no-untyped-def]
        self.collected += 1
        return super()._collect(item)


@pytest.mark.parametrize(("workers", "partition_size", "n"), [(1, 1, 5), (2, 3, 20), (4, 7, 101), (3, 50, 2)])
def test_engines_partitions_come_back_in_input_order(workers: int, partition_size: int, n: int) -> None:
    engine = _StubEngine(workers, partition_size)
    items = [(Record(f"text {i}", {"doc_id": f"d{i}"}), i) for i in range(n)]
    out = list(engine.analyze_records(iter(items)))
    assert [ctx for _, ctx, _ in out] == list(range(n))
    assert [res["doc_id"] for _, _, res in out] == [f"d{i}" for i in range(n)]
    assert engine.max_in_flight <= workers * IN_FLIGHT_PER_WORKER


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "spark"}, "engine 'spark' is not one of local, dask"),
        ({"workers": 0}, "workers=0 is not allowed"),
        ({"scheduler": "tcp://127.0.0.1:1"}, "--scheduler needs --engine dask"),
    ],
)
def test_engines_reject_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_engine(model="auto", mode="fast", **kwargs)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _comparable(doc: dict) -> tuple:
    spans = [(s["start"], s["end"], s["label"]) for s in doc["hr_mentions"] + doc["signals"]]
    links = [(k["mention"], k["signal"], k["strength"]) for k in doc["links"]]
    return doc["label"], spans, links


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    out = tmp_path_factory.mktemp("local")
    run_analysis(SMALL, out, mode="default", write_reports=False)
    return {d["doc_id"]: _comparable(d) for d in _lines(out / "documents.jsonl")}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_engines_two_workers_match_one(
    tmp_path: Path, local_run: dict[str, tuple], engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small partitions so that both workers get several.
    import hrdiscourse.engines as engines

    real = engines.make_engine
    monkeypatch.setattr(engines, "make_engine", lambda **kw: real(**kw, partition_size=2))
    out = tmp_path / engine
    manifest = run_analysis(SMALL, out, mode="default", write_reports=False, workers=2, engine=engine)
    docs = _lines(out / "documents.jsonl")
    assert [d["doc_id"] for d in docs] == list(local_run)  # input order kept
    assert {d["doc_id"]: _comparable(d) for d in docs} == local_run
    assert manifest["analysed"] == len(local_run)
    assert manifest["model"]["mode"] == "default"
