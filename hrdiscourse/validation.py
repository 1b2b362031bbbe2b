"""Check the tool against your own coding: draw a sample, code it, measure agreement,
and turn the corrected codes into gold documents for training.

```python
from hrdiscourse.validation import sample, agreement, to_gold

sample("runs/news", 60, out="coding.csv")   # doc_id, title, url, tool_label, human_label, notes
# ... a researcher fills human_label (and notes) in a spreadsheet ...
result = agreement("coding.csv")             # Cohen's kappa, per-label P/R/F1, confusion matrix
to_gold("coding.csv", "runs/news", "my-gold/")  # gold documents for `hrdiscourse train --gold my-gold`
```

Coders who should not see the tool's reading can hide the ``tool_label`` column while
coding; :func:`agreement` only needs it back in the file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .api import Corpus
from .errors import ConfigError
from .types import LABELS

__all__ = ["CODING_COLUMNS", "Agreement", "agreement", "read_coding", "sample", "to_gold"]

#: Columns of a coding file, in order.
CODING_COLUMNS: tuple[str, ...] = ("doc_id", "title", "url", "tool_label", "human_label", "notes")


def _allocate(counts: Mapping[str, int], n: int) -> dict[str, int]:
    """How many documents to draw per label: one each, the rest in proportion
    (largest remainder), never more than a label has."""
    alloc = {label: 1 for label in counts}
    rest = n - len(counts)
    total = sum(counts.values())
    quotas = {label: rest * counts[label] / total for label in counts}
    for label in counts:
        alloc[label] += min(int(quotas[label]), counts[label] - 1)
    left = n - sum(alloc.values())
    # Hand out what rounding left, largest remainder first, to labels with documents to spare.
    order = sorted(counts, key=lambda lb: (-(quotas[lb] - int(quotas[lb])), -counts[lb], lb))
    while left > 0:
        progressed = False
        for label in order:
            if left and alloc[label] < counts[label]:
                alloc[label] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def sample(
    run: str | os.PathLike[str] | Corpus,
    n: int,
    *,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Draw a sample of documents for a researcher to code, stratified by the tool's label.

    Every label present in the run gets at least one document; the rest are shared in
    proportion to the label counts. The rows are shuffled, so the coder does not meet
    the documents grouped by label.

    Args:
        run: The output folder of ``hrdiscourse analyze``, or a Corpus.
        n: Documents to draw (all of them when the run has ``n`` or fewer).
        seed: Random seed; the same seed gives the same sample.
        out: Write the coding file (CSV, UTF-8) here when given.

    Returns:
        The coding table: ``doc_id, title, url, tool_label, human_label`` (empty) and
        ``notes`` (empty).

    Raises:
        ConfigError: ``n`` is smaller than the number of labels present, or not positive.
    """
    corpus = run if isinstance(run, Corpus) else Corpus.from_dir(run)
    docs = corpus.documents
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n={n!r}: give the number of documents to sample, 1 or more.")
    counts = {label: int(c) for label, c in docs["label"].value_counts().items()}
    if n < len(docs) and n < len(counts):
        raise ConfigError(
            f"n={n} is smaller than the {len(counts)} labels present ({', '.join(sorted(counts))}); "
            f"a stratified sample needs one document per label, use --n {len(counts)} or more."
        )
    if n >= len(docs):
        picked = docs
    else:
        alloc = _allocate(counts, n)
        parts = [
            docs[docs["label"] == label].sample(n=k, random_state=seed)
            for label, k in sorted(alloc.items())
            if k
        ]
        picked = pd.concat(parts)
    picked = picked.sample(frac=1, random_state=seed)
    table = pd.DataFrame(
        {
            "doc_id": picked["doc_id"].astype(str),
            "title": picked["title"].fillna("").astype(str),
            "url": picked["url"].fillna("").astype(str),
            "tool_label": picked["label"].astype(str),
            "human_label": "",
            "notes": "",
        },
        columns=list(CODING_COLUMNS),
    ).reset_index(drop=True)
    if out is not None:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(path, index=False, encoding="utf-8")
    return table


def read_coding(coding_csv: str | os.PathLike[str]) -> tuple[pd.DataFrame, int]:
    """Read a coding file and check its labels.

    Labels are compared without case or surrounding spaces. Rows whose
    ``human_label`` is empty are left out and counted.

    Returns:
        The coded rows (``line`` is the row's line in the file) and the number skipped.

    Raises:
        ConfigError: The file is missing, lacks a column, or a label is not one of the
            seven (the message names the line).
    """
    path = Path(coding_csv)
    if not path.is_file():
        raise ConfigError(
            f"{path}: coding file not found; write one with 'hrdiscourse sample RUN --out {path}'."
        )
    rows: list[dict[str, Any]] = []
    skipped = 0
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("doc_id", "tool_label", "human_label") if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(
                f"{path}: line 1: column(s) {', '.join(missing)} missing; a coding file has the columns "
                f"{', '.join(CODING_COLUMNS)}."
            )
        for row in reader:
            line = reader.line_num
            human = (row.get("human_label") or "").strip().lower()
            if not human:
                skipped += 1
                continue
            tool = (row.get("tool_label") or "").strip().lower()
            for column, value in (("human_label", human), ("tool_label", tool)):
                if value not in LABELS:
                    raise ConfigError(
                        f"{path}: line {line}: {column} {value!r} is not a label; "
                        f"use one of {', '.join(LABELS)}."
                    )
            doc_id = (row.get("doc_id") or "").strip()
            if not doc_id:
                raise ConfigError(f"{path}: line {line}: doc_id is empty; keep the doc_id the sample wrote.")
            rows.append(
                {
                    "line": line,
                    "doc_id": doc_id,
                    "tool_label": tool,
                    "human_label": human,
                    "notes": (row.get("notes") or "").strip(),
                }
            )
    return pd.DataFrame(rows, columns=["line", "doc_id", "tool_label", "human_label", "notes"]), skipped


@dataclass
class Agreement:
    """Agreement between the tool's labels and a researcher's.

    Attributes:
        n: Coded documents compared.
        skipped: Rows left out because ``human_label`` was empty.
        kappa: Cohen's kappa (NaN when it is undefined, e.g. one label on both sides).
        accuracy: Share of documents where both labels agree.
        per_label: ``precision``, ``recall``, ``f1`` and ``support`` per label, the human
            label taken as the reference (support = documents the human gave that label).
        confusion: Counts, rows the human label, columns the tool label.
    """

    n: int
    skipped: int
    kappa: float
    accuracy: float
    per_label: pd.DataFrame
    confusion: pd.DataFrame
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""
        return {
            "n": self.n,
            "skipped": self.skipped,
            "kappa": None if pd.isna(self.kappa) else float(self.kappa),
            "accuracy": float(self.accuracy),
            "per_label": {
                str(label): {k: float(v) for k, v in row.items()} for label, row in self.per_label.iterrows()
            },
            "confusion": {
                str(h): {str(t): int(v) for t, v in row.items()} for h, row in self.confusion.iterrows()
            },
        }


def agreement(coding_csv: str | os.PathLike[str]) -> Agreement:
    """Compare the tool's labels with a researcher's in a coding file.

    Args:
        coding_csv: A file written by :func:`sample` with ``human_label`` filled in.

    Returns:
        Cohen's kappa, accuracy, per-label precision/recall/F1 (tool against human) and
        the confusion matrix over the labels that occur on either side; the rows where
        the two disagree are in ``disagreements``.

    Raises:
        ConfigError: See :func:`read_coding`; also when no row is coded.
    """
    import warnings

    from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

    coded, skipped = read_coding(coding_csv)
    if coded.empty:
        raise ConfigError(
            f"{coding_csv}: no row has a human_label ({skipped} empty); code some documents first."
        )
    human, tool = coded["human_label"].tolist(), coded["tool_label"].tolist()
    labels = [label for label in LABELS if label in set(human) | set(tool)]
    with warnings.catch_warnings():
        # One label on both sides makes kappa undefined (NaN), which is the honest answer.
        warnings.simplefilter("ignore", RuntimeWarning)
        kappa = float(cohen_kappa_score(human, tool, labels=labels))
    p, r, f, s = precision_recall_fscore_support(human, tool, labels=labels, zero_division=0)
    per_label = pd.DataFrame(
        {"precision": p, "recall": r, "f1": f, "support": s}, index=pd.Index(labels, name="label")
    )
    confusion = pd.DataFrame(
        confusion_matrix(human, tool, labels=labels),
        index=pd.Index(labels, name="human"),
        columns=pd.Index(labels, name="tool"),
    )
    agree = coded["human_label"] == coded["tool_label"]
    return Agreement(
        n=len(coded),
        skipped=skipped,
        kappa=kappa,
        accuracy=float(agree.mean()),
        per_label=per_label,
        confusion=confusion,
        disagreements=coded[~agree].reset_index(drop=True),
    )


def to_gold(
    coding_csv: str | os.PathLike[str],
    run: str | os.PathLike[str] | Corpus,
    out_folder: str | os.PathLike[str],
    *,
    split: str = "train",
) -> list[Path]:
    """Write the coded documents as gold documents, labelled with the researcher's code.

    Each file is ``<out_folder>/<safe doc id>.txt``: YAML front matter as in
    ``corpora/gold/GUIDELINES.md`` (``id, title, author, date, outlet, url, doc_type,
    language, label, split, constructed: false, note``, plus ``tool_label``) and the
    analysed text. ``hrdiscourse train --gold OUT_FOLDER`` trains on them. The texts
    are the run's documents: keep third-party articles out of a public repository.

    Args:
        coding_csv: A coded file (see :func:`sample`).
        run: The run the sample came from (folder or Corpus), for the texts and metadata.
        out_folder: Folder to write into (created).
        split: ``train`` or ``test``.

    Returns:
        The files written, in coding-file order.

    Raises:
        ConfigError: A coded doc_id is not in the run, or ``split`` is not train/test.
    """
    import yaml

    from .runner import safe_name

    if split not in ("train", "test"):
        raise ConfigError(f"split={split!r}: use 'train' or 'test'.")
    coded, _ = read_coding(coding_csv)
    corpus = run if isinstance(run, Corpus) else Corpus.from_dir(run)
    folder = Path(out_folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in coded.itertuples(index=False):
        if row.doc_id not in corpus:
            raise ConfigError(
                f"{coding_csv}: line {row.line}: doc_id {row.doc_id!r} is not in the run; "
                "pass the run folder the sample was drawn from."
            )
        result = corpus[row.doc_id]
        meta: dict[str, Any] = {"id": row.doc_id}
        for key in ("title", "author", "date", "outlet", "url", "doc_type", "language"):
            value = result.get(key)
            if value not in (None, ""):
                meta[key] = str(value)
        meta.update(
            label=row.human_label,
            split=split,
            constructed=False,
            note=row.notes or f"coded by a researcher; tool said {row.tool_label}",
            tool_label=row.tool_label,
        )
        head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
        path = folder / f"{safe_name(row.doc_id)}.txt"
        path.write_text(f"---\n{head}---\n{result.get('text') or ''}\n", encoding="utf-8")
        written.append(path)
    return written
