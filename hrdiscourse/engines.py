"""Where documents are analysed: in this process, in local worker processes, or on Dask.

Every engine takes ``(record, context)`` pairs and yields ``(record, context, result)``
in input order, like :meth:`hrdiscourse.analysis.Analyzer.analyze_records`, so the
runner does not care which one it drives:

- ``local`` with one worker: an :class:`~hrdiscourse.analysis.Analyzer` in this process;
- ``local`` with ``workers > 1``: a pool of spawned processes, each loading the
  pipeline once (:func:`cached_analyzer`);
- ``dask``: partitions of records sent to the workers of a Dask cluster (an existing
  one at ``scheduler``, else a ``LocalCluster`` on 127.0.0.1).

Only :class:`~hrdiscourse.types.Record` objects go to a worker and only plain result
dicts come back: no ``Language`` or ``Doc`` is ever pickled. At most a few partitions
per worker are in flight, so memory stays bounded however long the input is.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Literal, Protocol, TypeVar

from .errors import ConfigError
from .types import Record

__all__ = [
    "ENGINES",
    "DaskEngine",
    "Engine",
    "LocalEngine",
    "ProcessEngine",
    "analyze_partition",
    "cached_analyzer",
    "make_engine",
]

T = TypeVar("T")
EngineName = Literal["local", "dask"]
ENGINES: tuple[str, ...] = ("local", "dask")

#: Partitions in flight per worker: enough to keep a worker busy while the
#: previous partition's results travel back, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2


class Engine(Protocol):
    """What the runner needs from an engine."""

    def analyze_records(
        self, items: Iterable[tuple[Record, T]], *, batch_size: int = 16
    ) -> Iterator[tuple[Record, T, dict[str, Any]]]: ...

    def model_info(self) -> dict[str, str]: ...

    def lexicon_versions(self) -> dict[str, str]: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=4)
def cached_analyzer(model: str, mode: str) -> Any:
    """The process's one :class:`~hrdiscourse.analysis.Analyzer` for ``(model, mode)``.

    A worker calls this for every partition; the pipeline is loaded on the first call only.
    """
    from .analysis import Analyzer

    return Analyzer(model=model, mode=mode)


def warm(model: str, mode: str) -> tuple[dict[str, str], dict[str, str]]:
    """Load the pipeline in this process; returns its model info and lexicon versions."""
    analyzer = cached_analyzer(model, mode)
    return analyzer.model_info(), analyzer.lexicon_versions()


def analyze_partition(records: list[Record], model: str, mode: str, batch_size: int) -> list[dict[str, Any]]:
    """Analyse one partition of records in this process (the task a worker runs).

    Args:
        records: The partition, in input order.
        model: spaCy pipeline name or path.
        mode: ``default``, ``full`` or ``fast``.
        batch_size: Documents per ``nlp.pipe`` batch.

    Returns:
        One result dict per record, in order.
    """
    analyzer = cached_analyzer(model, mode)
    pairs = ((rec, None) for rec in records)
    return [result for _, _, result in analyzer.analyze_records(pairs, batch_size=batch_size)]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class LocalEngine:
    """Analyse in this process (``--workers 1``)."""

    def __init__(self, *, model: str = "auto", mode: str = "default") -> None:
        from .analysis import Analyzer

        self._analyzer = Analyzer(model=model, mode=mode)

    @property
    def analyzer(self) -> Any:
        return self._analyzer

    def analyze_records(
        self, items: Iterable[tuple[Record, T]], *, batch_size: int = 16
    ) -> Iterator[tuple[Record, T, dict[str, Any]]]:
        return self._analyzer.analyze_records(items, batch_size=batch_size)

    def model_info(self) -> dict[str, str]:
        return self._analyzer.model_info()

    def lexicon_versions(self) -> dict[str, str]:
        return self._analyzer.lexicon_versions()

    def close(self) -> None:
        """Nothing to release."""


class _PartitionEngine:
    """Ordered, bounded fan-out of record partitions to workers (subclasses submit)."""

    def __init__(self, *, model: str, mode: str, workers: int, partition_size: int) -> None:
        if workers < 1:
            raise ConfigError(f"workers={workers} is not allowed; give --workers 1 or more.")
        if partition_size < 1:
            raise ConfigError(f"partition_size={partition_size} is not allowed; give 1 or more.")
        self.model = model
        self.mode = mode
        self.workers = workers
        self.partition_size = partition_size
        self._info: tuple[dict[str, str], dict[str, str]] | None = None

    def _submit(self, records: list[Record], batch_size: int) -> Any:
        raise NotImplementedError

    def _warm_info(self) -> tuple[dict[str, str], dict[str, str]]:
        raise NotImplementedError

    def analyze_records(
        self, items: Iterable[tuple[Record, T]], *, batch_size: int = 16
    ) -> Iterator[tuple[Record, T, dict[str, Any]]]:
        """Yield ``(record, context, result)`` in input order; contexts never leave this process."""
        pending: deque[tuple[list[tuple[Record, T]], Any]] = deque()
        limit = self.workers * IN_FLIGHT_PER_WORKER
        for chunk in _chunks(items, self.partition_size):
            pending.append((chunk, self._submit([rec for rec, _ in chunk], batch_size)))
            while len(pending) >= limit:
                yield from self._collect(pending.popleft())
        while pending:
            yield from self._collect(pending.popleft())

    def _collect(
        self, item: tuple[list[tuple[Record, T]], Any]
    ) -> Iterator[tuple[Record, T, dict[str, Any]]]:
        chunk, future = item
        results = future.result()
        for (rec, ctx), result in zip(chunk, results, strict=True):
            yield rec, ctx, result

    def model_info(self) -> dict[str, str]:
        if self._info is None:
            self._info = self._warm_info()
        return self._info[0]

    def lexicon_versions(self) -> dict[str, str]:
        if self._info is None:
            self._info = self._warm_info()
        return self._info[1]


class ProcessEngine(_PartitionEngine):
    """Local worker processes (spawned, so no forked spaCy or BLAS state), one pipeline each.

    Args:
        model: spaCy pipeline name or path.
        mode: ``default``, ``full`` or ``fast``.
        workers: Number of processes.
        partition_size: Records per task.
    """

    def __init__(
        self, *, model: str = "auto", mode: str = "default", workers: int = 2, partition_size: int = 64
    ):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        super().__init__(model=model, mode=mode, workers=workers, partition_size=partition_size)
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm,
            initargs=(model, mode),
        )

    def _submit(self, records: list[Record], batch_size: int) -> Any:
        return self._pool.submit(analyze_partition, records, self.model, self.mode, batch_size)

    def _warm_info(self) -> tuple[dict[str, str], dict[str, str]]:
        return self._pool.submit(warm, self.model, self.mode).result()

    def close(self) -> None:
        """Stop the worker processes."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine(_PartitionEngine):
    """Partitions of records analysed on a Dask cluster.

    Args:
        model: spaCy pipeline name or path; it must be installed on every worker.
        mode: ``default``, ``full`` or ``fast``.
        workers: Workers of the ``LocalCluster`` started when ``scheduler`` is None;
            with a scheduler, only sizes the number of partitions in flight (at least
            the cluster's worker count).
        scheduler: Address of an existing scheduler (``tcp://host:8786``).
        partition_size: Records per task.
    """

    def __init__(
        self,
        *,
        model: str = "auto",
        mode: str = "default",
        workers: int = 2,
        scheduler: str | None = None,
        partition_size: int = 64,
    ) -> None:
        from distributed import Client, LocalCluster

        super().__init__(model=model, mode=mode, workers=workers, partition_size=partition_size)
        self._cluster = None
        try:
            if scheduler:
                self._client = Client(scheduler, timeout="30s")
            else:
                self._cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                self._client = Client(self._cluster)
        except OSError as exc:
            where = scheduler or "a LocalCluster on 127.0.0.1"
            raise ConfigError(
                f"cannot connect to the Dask scheduler at {where} ({exc}); check the address "
                "(tcp://host:8786) and that 'dask scheduler' is running."
            ) from exc
        n_cluster = len(self._client.scheduler_info().get("workers", {}))
        self.workers = max(self.workers, n_cluster, 1)
        # Load the pipeline on every worker now, in parallel, not on the first partition.
        infos = self._client.run(warm, model, mode)
        self._info = next(iter(infos.values())) if infos else None

    @property
    def client(self) -> Any:
        return self._client

    def _submit(self, records: list[Record], batch_size: int) -> Any:
        return self._client.submit(analyze_partition, records, self.model, self.mode, batch_size, pure=False)

    def _warm_info(self) -> tuple[dict[str, str], dict[str, str]]:
        return self._client.submit(warm, self.model, self.mode, pure=False).result()

    def close(self) -> None:
        """Close the client and, when this engine started it, the LocalCluster."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_engine(
    *,
    model: str = "auto",
    mode: str = "default",
    engine: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    partition_size: int = 64,
) -> Any:
    """The engine for the ``--engine``/``--workers``/``--scheduler`` options.

    Args:
        model: spaCy pipeline name or path.
        mode: ``default``, ``full`` or ``fast``.
        engine: ``local`` (this machine) or ``dask``.
        workers: Processes (``local``) or LocalCluster workers (``dask``).
        scheduler: Existing Dask scheduler address (``dask`` only).
        partition_size: Records per task for the multi-process engines.

    Returns:
        An object with ``analyze_records``, ``model_info``, ``lexicon_versions`` and ``close``.

    Raises:
        ConfigError: For an unknown engine, fewer than one worker, or a scheduler
            address given to the local engine.
    """
    if engine not in ENGINES:
        raise ConfigError(
            f"engine {engine!r} is not one of {', '.join(ENGINES)}; use --engine local or dask."
        )
    if workers < 1:
        raise ConfigError(f"workers={workers} is not allowed; give --workers 1 or more.")
    if engine == "dask":
        return DaskEngine(
            model=model, mode=mode, workers=workers, scheduler=scheduler, partition_size=partition_size
        )
    if scheduler:
        raise ConfigError("--scheduler needs --engine dask; add --engine dask or drop --scheduler.")
    if workers == 1:
        return LocalEngine(model=model, mode=mode)
    return ProcessEngine(model=model, mode=mode, workers=workers, partition_size=partition_size)
