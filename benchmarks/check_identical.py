"""Check that a speed change keeps every result identical (run on demand, not a unit test).

Runs :func:`hrdiscourse.runner.run_analysis` over ``corpora/gold/documents/*.txt`` and
``corpora/sample`` in ``fast`` and ``default`` mode with two copies of the package, the
checkout and a reference tree, and compares ``documents.jsonl`` line by line (every
field but the timing ones). Both runs read the same inputs and the same ``lexicons/``
(both trees are copies taken at the start), so edits made by others meanwhile to the
package, the lexicons or the inputs do not show up as differences.

The reference tree is a copy of the checkout's ``hrdiscourse/`` in which the files
named by ``--from-git`` are replaced by their committed version (``git show REF:...``,
read-only, ``--ref`` default ``HEAD``); by default the files a speed change touches.

```bash
.venv/bin/python benchmarks/check_identical.py                     # checkout vs HEAD of the speed files
.venv/bin/python benchmarks/check_identical.py --ref d0806b1^      # vs the speed files before a commit
.venv/bin/python benchmarks/check_identical.py --save /tmp/before   # keep the checkout's outputs
.venv/bin/python benchmarks/check_identical.py --against /tmp/before  # compare with kept outputs
.venv/bin/python benchmarks/check_identical.py --trees /tmp/ref /tmp/new  # two trees of runs
```

``--trees A B`` compares every ``documents.jsonl`` (and ``errors.jsonl``) found under ``A``
with the file at the same relative path under ``B``, e.g. the outputs of ``hrdiscourse
analyze`` in each mode (fast, default, full) over several corpora
(``A/<mode>/<corpus>/documents.jsonl``), recorded before and after a change.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("fast", "default")
#: Fields that may differ between two runs of the same code.
TIMING_FIELDS = frozenset({"duration_s", "started", "seconds", "elapsed"})
SPEED_FILES = (
    "hrdiscourse/nlp/matching.py",
    "hrdiscourse/classify.py",
    "hrdiscourse/language.py",
    "hrdiscourse/runner.py",
    "hrdiscourse/analysis.py",
    "hrdiscourse/nlp/serialize.py",
    "hrdiscourse/nlp/twopass.py",
    "hrdiscourse/engines.py",
)


def _inputs(snapshot: Path) -> list[str]:
    """Copy the inputs once, so both runs read the very same files."""
    gold = snapshot / "gold"
    gold.mkdir(parents=True, exist_ok=True)
    for path in sorted((REPO / "corpora" / "gold" / "documents").glob("*.txt")):
        shutil.copy2(path, gold / path.name)
    shutil.copytree(REPO / "corpora" / "sample", snapshot / "sample", dirs_exist_ok=True)
    return [str(gold), str(snapshot / "sample")]


def _child(root: str, inputs: list[str], out: str, mode: str) -> None:
    sys.path.insert(0, root)
    import warnings

    warnings.simplefilter("ignore")
    import hrdiscourse
    from hrdiscourse.runner import run_analysis

    assert Path(hrdiscourse.__file__).resolve().is_relative_to(Path(root).resolve()), hrdiscourse.__file__
    run_analysis(inputs, out, mode=mode, write_reports=False)


def _run(*jobs: tuple[Path, Path], inputs: list[str]) -> None:
    """Run every ``(tree, out)`` job in every mode, the trees side by side."""
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(root), str(out / mode), mode, *inputs], cwd=root
        )
        for root, out in jobs
        for mode in MODES
    ]
    failed = [p.args for p in procs if p.wait() != 0]
    if failed:
        raise RuntimeError(f"runs failed: {failed}")


def _snapshot(dest: Path, files: list[str] = (), commit: str = "HEAD") -> Path:
    """A copy of the checkout's package and lexicons (``files`` reverted to HEAD).

    Taken once, so that edits made by others while the runs go on reach neither run.
    """
    shutil.copytree(REPO / "hrdiscourse", dest / "hrdiscourse", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "lexicons", dest / "lexicons")
    for rel in files:
        committed = subprocess.run(
            ["git", "show", f"{commit}:{rel}"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
        (dest / rel).write_text(committed, encoding="utf-8")
    return dest


def _strip(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in TIMING_FIELDS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def compare(a: Path, b: Path) -> list[str]:
    """Differences between the ``documents.jsonl`` of two output folders (per mode)."""
    problems = []
    for mode in MODES:
        problems += _compare_files(a / mode, b / mode, mode)
    return problems


def _compare_files(da: Path, db: Path, name: str) -> list[str]:
    problems = []
    la = (da / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    lb = (db / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    if len(la) != len(lb):
        problems.append(f"{name}: {len(la)} lines vs {len(lb)} lines")
    for n, (x, y) in enumerate(zip(la, lb, strict=False), 1):
        dx, dy = _strip(json.loads(x)), _strip(json.loads(y))
        if dx != dy:
            keys = sorted(k for k in set(dx) | set(dy) if dx.get(k) != dy.get(k))
            problems.append(f"{name}: line {n} ({dx.get('doc_id')}) differs in {keys}")
    ea, eb = da / "errors.jsonl", db / "errors.jsonl"
    if ea.exists() != eb.exists() or (
        ea.exists() and ea.read_text(encoding="utf-8") != eb.read_text(encoding="utf-8")
    ):
        problems.append(f"{name}: errors.jsonl differs")
    print(f"{name}: compared {min(len(la), len(lb))} documents")
    return problems


def compare_trees(a: Path, b: Path) -> list[str]:
    """Differences between every ``documents.jsonl`` under ``a`` and its namesake under ``b``."""
    problems = []
    runs = sorted(p.parent.relative_to(a) for p in a.rglob("documents.jsonl"))
    if not runs:
        return [f"{a}: no documents.jsonl found"]
    for rel in runs:
        if not (b / rel / "documents.jsonl").exists():
            problems.append(f"{rel}: missing in {b}")
            continue
        problems += _compare_files(a / rel, b / rel, str(rel))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="only run the checkout and keep its outputs here")
    parser.add_argument("--against", type=Path, help="compare the checkout with outputs kept by --save")
    parser.add_argument(
        "--from-git", nargs="*", default=list(SPEED_FILES), help="files reverted in the reference"
    )
    parser.add_argument("--ref", default="HEAD", help="commit the --from-git files are taken from")
    parser.add_argument(
        "--trees", nargs=2, type=Path, metavar=("REF", "NEW"), help="compare two trees of kept run outputs"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trees:
        problems = compare_trees(*args.trees)
        for p in problems[:50]:
            print(p)
        print("IDENTICAL" if not problems else f"{len(problems)} DIFFERENCES")
        return 0 if not problems else 1
    if args.child:
        root, out, mode, *inputs = args.child
        _child(root, inputs, out, mode)
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="hrd-identical-"))
    try:
        # Sources (input paths) are part of the results: a kept run keeps its inputs too.
        inputs = (
            _inputs(args.save / "inputs")
            if args.save
            else (
                [str(args.against / "inputs" / "gold"), str(args.against / "inputs" / "sample")]
                if args.against
                else _inputs(tmp / "inputs")
            )
        )
        mine = tmp / "checkout" if not args.save else args.save
        checkout = _snapshot(tmp / "checkout-tree")
        reference = None if (args.save or args.against) else _snapshot(tmp / "ref", args.from_git, args.ref)
        ref_out = args.against or tmp / "reference"
        _run((checkout, mine), *([(reference, ref_out)] if reference else []), inputs=inputs)
        if args.save:
            return 0
        problems = compare(ref_out, mine)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems[:50]:
        print(p)
    print("IDENTICAL" if not problems else f"{len(problems)} DIFFERENCES")
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
