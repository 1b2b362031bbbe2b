"""Validate corpora/gold/spans.jsonl and print summary counts.

Usage: python corpora/gold/check_spans.py [path/to/spans.jsonl]

Checks every line: valid JSON, required keys and types, id format and order,
split/language/source values, valid categories, boolean flags, and that every
span text occurs at least ``occurrence`` times in ``text`` (occurrences are
counted as substrings, scanning from one position after the previous match).
Warns (does not fail) when a span stands in quotation marks but ``quoted`` is
false or vice versa, and when an item without spans has no note.
Prints counts per category x split, flag counts, traps (notes containing
"trap:") and sources. Exit status 1 if any error was found.
Standard library only.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

CATEGORIES = [
    "harm_reduction",
    "exit_abstinence", "relapse_pathologizing", "rescue_saving", "trafficking_exploitation",
    "victim_deviance", "law_enforcement", "criminalization_prohibition", "conditional_support",
    "surveillance_profiling", "behaviour_control", "nuisance_public_order", "moral_balancing",
    "eradication_ideal",
    "extension", "aligned",
]
FLAGS = ["negated", "hedged", "quoted", "critical"]
ITEM_KEYS = {"id": str, "split": str, "language": str, "source": str, "text": str,
             "spans": list, "note": str}
SPAN_KEYS = {"text": str, "occurrence": int, "category": str}
SPLITS = ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4")
ID_RE = re.compile(r"^(?:en|fr|ho|h2|h3|h4)-\d{4}$")
SOURCE_RE = re.compile(r"^(constructed|seed §\d+)$")
OPEN_Q = {'"': '"', "\u201c": "\u201d", "\u2018": "\u2019"}


def occurrences(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i != -1 and sub:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def in_quotes(text: str, start: int, end: int) -> bool:
    """True if [start, end) lies inside a double-quoted (straight or curly) or
    curly single-quoted stretch of text."""
    double = single = False
    for i, ch in enumerate(text[:end]):
        if ch == '"':
            double = not double
        elif ch in ("\u201c", "\u00ab"):  # “ and French «
            double = True
        elif ch in ("\u201d", "\u00bb"):  # ” and French »
            double = False
        elif ch == "\u2018":
            single = True
        elif ch == "\u2019" and single and not (i + 1 < len(text) and text[i + 1].isalpha()):
            single = False
        if i == start - 1:
            inside_at_start = double or single
    if start == 0:
        return False
    return inside_at_start and (double or single)


def check(path: Path) -> int:
    errors: list[str] = []
    warnings: list[str] = []
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {n}: not an object")
            continue
        where = f"line {n} ({obj.get('id', '?')})"
        bad = False
        for key, typ in ITEM_KEYS.items():
            if key not in obj:
                errors.append(f"{where}: missing key {key!r}")
                bad = True
            elif not isinstance(obj[key], typ):
                errors.append(f"{where}: {key!r} must be {typ.__name__}")
                bad = True
        extra = set(obj) - set(ITEM_KEYS)
        if extra:
            errors.append(f"{where}: unexpected keys {sorted(extra)}")
        if bad:
            continue
        if not ID_RE.match(obj["id"]):
            errors.append(f"{where}: bad id format")
        elif obj["id"] != f"{(prefix := {'holdout': 'ho', 'holdout2': 'h2', 'holdout3': 'h3', 'holdout4': 'h4'}.get(obj['split'], obj['language']))}-{len(items) + 1:04d}":
            errors.append(f"{where}: id out of order, expected {prefix}-{len(items) + 1:04d}")
        if obj["split"] not in SPLITS:
            errors.append(f"{where}: split must be one of {SPLITS}")
        if obj["language"] not in ("en", "fr"):
            errors.append(f"{where}: language must be 'en' (spans.jsonl) or 'fr' (spans_fr.jsonl)")
        if not SOURCE_RE.match(obj["source"]):
            errors.append(f"{where}: source must be 'constructed' or 'seed §N'")
        text = obj["text"]
        if not text.strip():
            errors.append(f"{where}: empty text")
        if not obj["spans"] and not obj["note"].strip():
            warnings.append(f"{where}: no spans and no note")
        seen_spans = set()
        for k, sp in enumerate(obj["spans"]):
            sw = f"{where} span {k}"
            if not isinstance(sp, dict):
                errors.append(f"{sw}: not an object")
                continue
            sbad = False
            for key, typ in SPAN_KEYS.items():
                if key not in sp or not isinstance(sp[key], typ) or isinstance(sp[key], bool):
                    errors.append(f"{sw}: {key!r} missing or not {typ.__name__}")
                    sbad = True
            for flag in FLAGS:
                if not isinstance(sp.get(flag), bool):
                    errors.append(f"{sw}: flag {flag!r} missing or not boolean")
            extra = set(sp) - set(SPAN_KEYS) - set(FLAGS)
            if extra:
                errors.append(f"{sw}: unexpected keys {sorted(extra)}")
            if sbad:
                continue
            if sp["category"] not in CATEGORIES:
                errors.append(f"{sw}: unknown category {sp['category']!r}")
            if sp["occurrence"] < 1:
                errors.append(f"{sw}: occurrence must be >= 1")
                continue
            if sp["text"] != sp["text"].strip() or not sp["text"]:
                errors.append(f"{sw}: span text empty or with surrounding whitespace")
            pos = occurrences(text, sp["text"])
            if len(pos) < sp["occurrence"]:
                errors.append(f"{sw}: {sp['text']!r} occurs {len(pos)}x, occurrence={sp['occurrence']}")
                continue
            key = (sp["text"], sp["occurrence"], sp["category"])
            if key in seen_spans:
                errors.append(f"{sw}: duplicate span {key}")
            seen_spans.add(key)
            start = pos[sp["occurrence"] - 1]
            q = in_quotes(text, start, start + len(sp["text"]))
            if isinstance(sp.get("quoted"), bool) and q != sp["quoted"]:
                warnings.append(f"{sw}: {sp['text']!r} quoted={sp['quoted']} but text says {q}")
        items.append(obj)

    # ---- summary ----
    n_split = Counter(o["split"] for o in items)
    print(f"{path}: {len(items)} items  " + "  ".join(f"{s}={n_split[s]}" for s in SPLITS))
    cat_items = {s: Counter() for s in SPLITS}
    cat_spans = {s: Counter() for s in SPLITS}
    flag_spans = {s: Counter() for s in SPLITS}
    for o in items:
        for c in {sp["category"] for sp in o["spans"]}:
            cat_items[o["split"]][c] += 1
        for sp in o["spans"]:
            cat_spans[o["split"]][sp["category"]] += 1
            for f in FLAGS:
                if sp.get(f) is True:
                    flag_spans[o["split"]][f] += 1
    print(f"\n{'category':30} {'spans dev':>9} {'spans test':>10} {'items dev':>9} {'items test':>10} {'items all':>9}")
    for c in CATEGORIES:
        d, t = cat_items["dev"][c], cat_items["test"][c]
        print(f"{c:30} {cat_spans['dev'][c]:9} {cat_spans['test'][c]:10} {d:9} {t:10} {d + t:9}")
        if d == 0 or t == 0:
            warnings.append(f"category {c} missing from a split")
    print(f"\n{'flag (spans)':30} {'dev':>9} {'test':>10} {'all':>9}")
    for f in FLAGS:
        d, t = flag_spans["dev"][f], flag_spans["test"][f]
        print(f"{f:30} {d:9} {t:10} {d + t:9}")
        if d == 0 or t == 0:
            warnings.append(f"flag {f} missing from a split")
    traps = {s: Counter() for s in SPLITS}
    for o in items:
        for m in re.finditer(r"trap: ([^;(]+)", o["note"]):
            traps[o["split"]][m.group(1).strip().rstrip(".")] += 1
    names = sorted(set(traps["dev"]) | set(traps["test"]))
    print(f"\n{'trap (from notes)':40} {'dev':>5} {'test':>5}")
    for t in names:
        print(f"{t[:40]:40} {traps['dev'][t]:5} {traps['test'][t]:5}")
    print(f"trap items: dev={sum(1 for o in items if 'trap:' in o['note'] and o['split'] == 'dev')} "
          f"test={sum(1 for o in items if 'trap:' in o['note'] and o['split'] == 'test')} "
          f"(no spans: {sum(1 for o in items if 'trap:' in o['note'] and not o['spans'])})")
    src = Counter("seed" if o["source"].startswith("seed") else o["source"] for o in items)
    print("\nsources: " + ", ".join(f"{k}={v}" for k, v in sorted(src.items())))

    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"\n{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    default = Path(__file__).with_name("spans.jsonl")
    sys.exit(check(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
