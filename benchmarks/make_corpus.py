"""Generate a benchmark corpus of news-length documents from the shipped texts.

Paragraphs of the gold documents and the sample corpus (the seed report excluded: it
is one long academic text) are recombined into new documents: about a third carry one
or two harm-reduction paragraphs, the rest none, as in real news streams where most
items never use the phrase. The output is deterministic for a given seed.

```bash
.venv/bin/python benchmarks/make_corpus.py --docs 2000 --out benchmarks/data/news.jsonl
.venv/bin/python benchmarks/make_corpus.py --docs 100000 --short --out benchmarks/data/short.jsonl
```
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = (REPO / "corpora" / "gold" / "documents", REPO / "corpora" / "sample")
HR_RE = re.compile(r"harm[\s-]+reduc|reduc\w*\s+(?:the\s+)?harms?\b|harm\s+minimi[sz]|réduction des", re.I)


def paragraphs(sources: tuple[Path, ...] = SOURCES) -> tuple[list[str], list[str]]:
    """Paragraphs of the source texts, split into (with HR framing, without)."""
    sys.path.insert(0, str(REPO))
    from hrdiscourse.ingest import read_corpus

    with_hr: list[str] = []
    without: list[str] = []
    seen: set[str] = set()
    for record in read_corpus([str(p) for p in sources], errors=[]):
        if record.source.endswith("seed-report.md") or (record.meta.get("language") or "en") != "en":
            continue
        for para in re.split(r"\n\s*\n", record.text):
            para = " ".join(para.split())
            if len(para.split()) < 12 or para in seen:
                continue
            seen.add(para)
            (with_hr if HR_RE.search(para) else without).append(para)
    return with_hr, without


def make_document(
    rng: random.Random, with_hr: list[str], without: list[str], *, hr: bool, lo: int, hi: int
) -> str:
    """One document of ``lo``..``hi`` words; with one or two HR paragraphs when ``hr``."""
    target = rng.randint(lo, hi)
    hr_paras = rng.sample(with_hr, k=rng.choice((1, 1, 2))) if hr else []
    words = sum(len(p.split()) for p in hr_paras)
    rest: list[str] = []
    while words < target:
        para = rng.choice(without)
        n = len(para.split())
        if words + n > hi:
            if words >= lo:
                break
            para = " ".join(para.split()[: hi - words])
            n = hi - words
        rest.append(para)
        words += n
    # Harm-reduction paragraphs land anywhere but first: news rarely leads with them.
    for para in hr_paras:
        rest.insert(rng.randint(1, max(1, len(rest))), para)
    return "\n\n".join(rest)


def generate(n: int, *, seed: int = 13, short: bool = False, hr_share: float = 1 / 3) -> list[dict]:
    """``n`` JSONL records (``id``, ``title``, ``text``, ``doc_type``).

    Args:
        n: Documents.
        seed: Random seed.
        short: 30-90 word documents (for long streamed runs) instead of 400-900 words.
        hr_share: Share of documents with harm-reduction framing.
    """
    with_hr, without = paragraphs()
    rng = random.Random(seed)
    lo, hi = (30, 90) if short else (400, 900)
    out = []
    for i in range(n):
        hr = rng.random() < hr_share
        if short:
            pool = with_hr if hr else without
            text = " ".join(rng.choice(pool).split()[: rng.randint(lo, hi)])
        else:
            text = make_document(rng, with_hr, without, hr=hr, lo=lo, hi=hi)
        # A unique tag line keeps recombined texts distinct for the runner's dedupe.
        text = f"{text}\n\nBenchmark item {i}."
        out.append({"id": f"bench-{i:06d}", "title": f"Benchmark item {i}", "text": text, "doc_type": "news"})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--short", action="store_true", help="30-90 word documents")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "data" / "news.jsonl")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for rec in generate(args.docs, seed=args.seed, short=args.short):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
