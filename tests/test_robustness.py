"""A hostile corpus through ``hrdiscourse analyze``: accounting, clear reasons, containment, safe HTML.

The corpus (tests/data/hostile/make_hostile.py) is generated at test time: empty and
binary files, broken and encrypted PDFs, odd encodings, invisible characters, bad
JSONL and CSV, 5,000 nested elements, a 30 MB file, duplicates, billion laughs and
XXE feeds aimed at a secret file, path-traversal ids and script injection.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrdiscourse.cli import app
from hrdiscourse.reports import safe_name as report_name
from hrdiscourse.runner import MAX_CHARS, run_analysis, safe_name

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "tests" / "data" / "hostile"
CLI = Path(sys.executable).parent / "hrdiscourse"

pytestmark = pytest.mark.slow


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_hostile", HOSTILE / "make_hostile.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_hostile = _load_maker()


def _snapshot(root: Path, *, skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` except ``skip``, with size and modification time."""
    seen: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d != skip]
        for name in [*dirnames, *filenames]:
            st = (here / name).lstat()
            seen[str((here / name).relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return seen


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse_html(path: Path) -> _Tags:
    dom = _Tags()
    dom.feed(path.read_text(encoding="utf-8"))
    dom.close()
    return dom


class HostileRun:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.secret = tmp / "private" / "secret.dtd"
        self.secret.parent.mkdir()
        self.secret.write_text(f'<!ENTITY leak "{make_hostile.SECRET}">\n', encoding="utf-8")
        self.corpus = tmp / "corpus"
        self.corpus.mkdir()
        self.cases = make_hostile.build(self.corpus, self.secret)
        self.out = tmp / "out"
        self.before = _snapshot(tmp, skip=self.out)
        # The installed console script, in a subprocess: the real entry point, its own cwd.
        self.proc = subprocess.run(
            [str(CLI), "analyze", "corpus", "--out", "out", "--quiet"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=900,
        )
        self.after = _snapshot(tmp, skip=self.out)
        self.manifest = json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))
        self.docs = _lines(self.out / "documents.jsonl")
        self.errors = _lines(self.out / "errors.jsonl")

    def expected(self, outcome: str) -> set[str]:
        return {c.source for c in self.cases if c.outcome == outcome}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    return HostileRun(tmp_path_factory.mktemp("hostile"))


def test_robustness_hostile_run_exits_3_without_traceback(hostile: HostileRun) -> None:
    assert hostile.proc.returncode == 3, hostile.proc.stderr[-3000:]
    assert "Traceback" not in hostile.proc.stderr
    assert f"Rejected inputs and reasons: {Path('out') / 'errors.jsonl'}" in hostile.proc.stderr


def test_robustness_accounts_for_every_input(hostile: HostileRun) -> None:
    m = hostile.manifest
    want = Counter(c.outcome for c in hostile.cases)
    assert m["inputs"] == m["analysed"] + m["errors"] + m["duplicates"] == len(hostile.cases)
    assert (m["analysed"], m["errors"], m["duplicates"]) == (
        want["analysed"],
        want["error"],
        want["duplicate"],
    )
    assert f"of {len(hostile.cases)} inputs" in hostile.proc.stdout


def test_robustness_each_input_has_the_expected_outcome(hostile: HostileRun) -> None:
    analysed = [d["source"] for d in hostile.docs]
    rejected = [f"{e['source']}:{e['location']}" if e["location"] else e["source"] for e in hostile.errors]
    # Rejected whole files report line 1 (a CSV header) as their location: match on the file then.
    rejected_files = {e["source"] for e in hostile.errors}
    assert sorted(analysed) == sorted(hostile.expected("analysed"))
    assert len(rejected) == len(set(rejected)) == len(hostile.expected("error"))
    for source in hostile.expected("error"):
        assert source in rejected or source in rejected_files, source
    assert [d["source"] for d in hostile.manifest["duplicate_sources"]] == sorted(
        hostile.expected("duplicate")
    )


def test_robustness_rejections_have_readable_reasons(hostile: HostileRun) -> None:
    for e in hostile.errors:
        reason = e["reason"]
        assert reason and "\n" not in reason and len(reason) < 400, e
        assert "Traceback" not in reason and 'File "' not in reason, e
        # The readers' catch-all: a reader met an input it does not know how to reject.
        assert "unexpected error" not in reason, e


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("big.txt", ["text too long: ", f"above the limit of {MAX_CHARS:,} (--max-chars)", "split it"]),
        ("laughs.xml", ["entity expansion (billion laughs)"]),
        ("xxe.rss", ["external entities (XXE) are refused"]),
        ("xxe-param.xml", ["external entities (XXE) are refused"]),
        ("encrypted.pdf", ["encrypted PDF"]),
        ("scanned.pdf", ["no extractable text", "OCR"]),
        ("random.pdf", ["not a PDF file"]),
        ("no-text-column.csv", ["no 'text' column"]),
        ("only-header.csv", ["no documents in the file"]),
        ("empty.txt", ["empty file (0 bytes)"]),
    ],
)
def test_robustness_rejection_reason_names_the_problem(
    hostile: HostileRun, name: str, words: list[str]
) -> None:
    (reason,) = [e["reason"] for e in hostile.errors if e["source"] == f"corpus/{name}"]
    for w in words:
        assert w in reason


def test_robustness_writes_nothing_outside_out(hostile: HostileRun) -> None:
    assert hostile.after == hostile.before
    out = hostile.out.resolve()
    for path in hostile.out.rglob("*"):
        assert not path.is_symlink()
        assert path.resolve().is_relative_to(out)
    assert {p.parent for p in (hostile.out / "docs").rglob("*")} == {hostile.out / "docs"}
    assert not [p for p in (hostile.out / "docs").iterdir() if p.name.startswith(".")]
    # Where an id used as a file name unchanged would have landed: nothing there.
    docs = (hostile.out / "docs").resolve()
    for doc in hostile.docs:
        for suffix in (".json", ".html"):
            naive = (docs / f"{doc['doc_id'].replace(chr(92), '/')}{suffix}").resolve()
            if not naive.is_relative_to(docs):
                assert not naive.exists(), naive


def test_robustness_one_file_per_document(hostile: HostileRun) -> None:
    ids = [d["doc_id"] for d in hostile.docs]
    assert len(ids) == len(set(ids))
    for doc_id in ids:
        assert (hostile.out / "docs" / f"{safe_name(doc_id)}.json").is_file()
        assert (hostile.out / "docs" / f"{report_name(doc_id)}.html").is_file()


def test_robustness_secret_never_leaks(hostile: HostileRun) -> None:
    secret = make_hostile.SECRET.encode()
    leaks = [p for p in hostile.out.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert leaks == []
    assert make_hostile.SECRET not in hostile.proc.stdout + hostile.proc.stderr


def test_robustness_no_live_script_in_any_html(hostile: HostileRun) -> None:
    pages = sorted(hostile.out.rglob("*.html"))
    assert len(pages) > len(hostile.docs)  # one per document plus the corpus pages
    for page in pages:
        dom = _parse_html(page)
        assert dom.tags, page
        bad = [t for t, _ in dom.tags if t in ("script", "iframe", "object", "embed", "base", "meta-refresh")]
        assert bad == [], page
        handlers = [(t, a) for t, attrs in dom.tags for a in attrs if a.lower().startswith("on")]
        assert handlers == [], page
        urls = [v or "" for _, attrs in dom.tags for a, v in attrs.items() if a in ("href", "src", "action")]
        schemes = [
            u for u in urls if "".join(u.split()).lower().startswith(("javascript:", "data:", "vbscript:"))
        ]
        assert schemes == [], page


def test_robustness_hostile_text_is_shown_as_text(hostile: HostileRun) -> None:
    (doc,) = [d for d in hostile.docs if d["source"] == "corpus/records.jsonl:line 19"]
    page = hostile.out / "docs" / f"{report_name(doc['doc_id'])}.html"
    text = "".join(_parse_html(page).text)
    assert make_hostile.XSS_SCRIPT in text and make_hostile.XSS_IMG in text


@pytest.mark.parametrize(
    ("source", "field", "value"),
    [
        ("corpus/records.jsonl:line 16", "doc_id", "nulid"),
        ("corpus/records.jsonl:line 15", "title", "evil title \U0001f480\U0001f525"),
        ("corpus/controls.txt", "text", None),
        ("corpus/utf16.txt", "text", None),
        ("corpus/french-cp1252.txt", "text", None),
    ],
)
def test_robustness_text_and_metadata_are_clean(
    hostile: HostileRun, source: str, field: str, value: str
) -> None:
    (doc,) = [d for d in hostile.docs if d["source"] == source]
    if value is not None:
        assert doc[field] == value
    for key in ("doc_id", "title", "text"):
        if doc[key]:
            assert not [c for c in doc[key] if c in "\x00\x01\x1b\u200b\u200d\u202e\ufffd"], (key, doc[key])


def test_robustness_decodes_french_and_utf16(hostile: HostileRun) -> None:
    by_source = {d["source"]: d for d in hostile.docs}
    assert "réduction des méfaits" in by_source["corpus/french-cp1252.txt"]["text"]
    assert "\u2019" in by_source["corpus/french-cp1252.txt"]["text"]
    assert "réduction des méfaits" in by_source["corpus/french-latin1.md"]["text"]
    assert "harm reduction supplies" in by_source["corpus/utf16.txt"]["text"]
    assert "Harm reduction deep inside." in by_source["corpus/nested.html"]["text"]


# --- the size limit -------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [100])
def test_robustness_max_chars_is_inclusive(tmp_path: Path, limit: int) -> None:
    src = tmp_path / "in"
    src.mkdir()
    texts = {n: ("Harm reduction. " * 20)[: n - 1] + "x" for n in (limit, limit + 1)}
    lines = [json.dumps({"id": f"len-{n}", "text": t}) + "\n" for n, t in texts.items()]
    (src / "doc.jsonl").write_text("".join(lines), encoding="utf-8")
    manifest = run_analysis(src, tmp_path / "out", mode="fast", write_reports=False, max_chars=limit)
    assert (manifest["inputs"], manifest["analysed"], manifest["errors"]) == (2, 1, 1)
    assert [d["doc_id"] for d in _lines(tmp_path / "out" / "documents.jsonl")] == [f"len-{limit}"]
    assert _lines(tmp_path / "out" / "errors.jsonl") == [
        {
            "source": f"{src.as_posix()}/doc.jsonl",
            "location": "line 2",
            "reason": f"text too long: {limit + 1} characters, above the limit of {limit} (--max-chars); "
            "split it into smaller documents (one file per article, chapter or section), "
            "or raise --max-chars (up to 1,000,000).",
        }
    ]


@pytest.mark.parametrize("value", ["0", "1000001"])
def test_robustness_max_chars_out_of_range_is_one_line(tmp_path: Path, value: str) -> None:
    (tmp_path / "a.txt").write_text("Harm reduction.", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["analyze", str(tmp_path / "a.txt"), "--out", str(tmp_path / "o"), "--max-chars", value, "-q"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"hrdiscourse: error: --max-chars {value} is out of range; give 1 to 1,000,000 (spaCy analyses at "
        "most 1,000,000 characters per document) and split longer documents.\n"
    )
