"""Per-document HTML pages: nested/overlapping highlights, escaping, safe file names."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hrdiscourse.reports.citations import format_citation
from hrdiscourse.reports.document import category_colour, render_document, safe_name, segments, write_document

TEXT = "The exit program for women at risk is part of a harm reduction approach."


def _span(text: str, sid: str, phrase: str, **flags) -> dict:
    start = text.index(phrase)
    return {
        "id": sid,
        "start": start,
        "end": start + len(phrase),
        "text": phrase,
        "entry_id": f"{sid}-e",
        "sent_index": 0,
        "sentence": text,
        "sent_start": 0,
        "negated": False,
        "hedged": False,
        "quoted": False,
        "critical": False,
        "speaker": None,
        **flags,
    }


def _overlap_result() -> dict:
    """Crossing spans (s0/s1), a nested span (s2 in s0), a span sharing s0's start (s3)."""
    t = TEXT
    m0 = {**_span(t, "m0", "harm reduction approach", critical=True), "label": "HARM_REDUCTION"}
    m1 = {**_span(t, "m1", "harm reduction"), "label": "HARM_REDUCTION"}
    signals = [
        {**_span(t, "s0", "exit program for women"), "kind": "coopting", "category": "exit_abstinence"},
        {**_span(t, "s1", "women at risk", negated=True), "kind": "coopting", "category": "victim_deviance"},
        {**_span(t, "s2", "program"), "kind": "coopting", "category": "exit_abstinence"},
        {**_span(t, "s3", "exit"), "kind": "coopting", "category": "rescue_saving"},
    ]
    for s in signals:
        s["label"] = s["category"].upper()
    return {
        "doc_id": "overlap",
        "source": "x",
        "url": None,
        "title": "Overlap",
        "author": None,
        "date": None,
        "outlet": None,
        "doc_type": "news",
        "language": "en",
        "label": "coopted",
        "label_scores": {"coopted": 0.9},
        "hr_mentions": [m0, m1],
        "signals": signals,
        "links": [{"mention": "m0", "signal": "s0", "strength": "direct", "sent_distance": 0}],
        "evidence": [{"sentence": t, "start": 0, "end": len(t), "reason": "direct link", "weight": 1.0}],
        "annotation": "",
        "citation": "",
        "lexicons": {},
        "model": {},
        "text": t,
    }


class _TextMarks(HTMLParser):
    """Reads the #text block back: each character with the stack of marks around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = 0
        self.stack: list[dict[str, str]] = []
        self.chars: list[tuple[str, tuple[dict[str, str], ...]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("id") == "text":
            self.inside = 1
        elif self.inside and tag == "div":
            self.inside += 1
        elif self.inside and tag == "mark":
            self.stack.append(a)

    def handle_endtag(self, tag):
        if self.inside and tag == "mark":
            self.stack.pop()
        elif self.inside and tag == "div":
            self.inside -= 1

    def handle_data(self, data):
        if self.inside:
            self.chars.extend((c, tuple(self.stack)) for c in data)


def _parse(page: str) -> _TextMarks:
    parser = _TextMarks()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("result", [_overlap_result()], ids=["crossing-nested"])
def test_reports_document_overlapping_spans(result: dict) -> None:
    parsed = _parse(render_document(result))
    assert "".join(c for c, _ in parsed.chars) == result["text"]
    for span in result["hr_mentions"] + result["signals"]:
        positions = [
            i for i, (_, marks) in enumerate(parsed.chars) if any(m["data-span"] == span["id"] for m in marks)
        ]
        assert positions == list(range(span["start"], span["end"])), span["id"]
    # Outer spans wrap inner ones: s2 ("program") always sits inside s0.
    for _, marks in parsed.chars:
        ids = [m["data-span"] for m in marks]
        if "s2" in ids:
            assert ids.index("s0") < ids.index("s2")
        for m in marks:
            classes = m["class"].split()
            assert ("negated" in classes) == (m["data-span"] == "s1")
            assert ("critical" in classes) == (m["data-span"] == "m0")


@pytest.mark.parametrize("result", [_overlap_result()], ids=["crossing-nested"])
def test_reports_document_segments_depth(result: dict) -> None:
    segs = segments(result)
    assert "".join(s.text for s in segs) == result["text"]
    for seg in segs:
        assert [m.depth for m in seg.marks] == list(range(len(seg.marks) - 1, -1, -1))


@pytest.mark.parametrize(
    "category", ["exit_abstinence", "victim_deviance", "rescue_saving", "harm_reduction"]
)
def test_reports_document_legend(category: str) -> None:
    page = render_document(_overlap_result())
    legend = page[page.index('class="legend"') : page.index('id="text"')]
    assert "negated" in legend and "critical" in legend
    colour = category_colour(category)
    assert re.search(rf'data-category="{category}"><i style="border-color: {colour}', legend)
    assert f'data-category="{category}" style="--c: {colour};' in page


HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> harm reduction"


@pytest.mark.parametrize(
    "field", ["text", "title", "author", "outlet", "doc_id", "source", "speaker", "evidence", "category"]
)
def test_reports_document_escapes(field: str) -> None:
    r = _overlap_result()
    if field == "text":
        r["text"] = HOSTILE + " " + r["text"]
        r["hr_mentions"], r["signals"], r["links"] = [], [], []
    elif field == "speaker":
        r["hr_mentions"][0]["speaker"] = HOSTILE
    elif field == "evidence":
        r["evidence"][0]["sentence"] = HOSTILE
        r["evidence"][0]["reason"] = HOSTILE
    elif field == "category":
        r["signals"][0]["category"] = HOSTILE
    else:
        r[field] = HOSTILE
    page = render_document(r)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("https://example.org/a?b=1&c=2", True),
    ],
)
def test_reports_document_links_only_http(url: str, linked: bool) -> None:
    page = render_document({**_overlap_result(), "url": url})
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert not any("javascript" in h.lower() or h.startswith("data:") for h in hrefs)
    assert (html.escape(url) in hrefs) == linked


@pytest.mark.parametrize(
    "doc_id",
    [
        "../../etc/passwd",
        "a/b",
        "a\\b",
        "..",
        ".hidden",
        "",
        "ünïcødé",
        "x" * 300,
        "con",
        "a b\x00c",
        "bare-id",
    ],
)
def test_reports_document_safe_file_names(doc_id: str, tmp_path: Path) -> None:
    name = safe_name(doc_id)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name) and len(name) <= 89
    path = write_document(tmp_path / "docs", {**_overlap_result(), "doc_id": doc_id})
    assert path.parent == tmp_path / "docs" and path.name == f"{name}.html"
    assert [p.name for p in tmp_path.iterdir()] == ["docs"]


@pytest.mark.parametrize(("a", "b"), [("a/b", "a_b"), ("ü", "ý"), ("../x", "__x"), ("x" * 90, "x" * 91)])
def test_reports_document_safe_names_do_not_collide(a: str, b: str) -> None:
    assert safe_name(a) != safe_name(b)


@pytest.mark.parametrize("case", ["seed_xiii", "no_author_nearby", "critical_no_outlet", "extension_no_url"])
def test_reports_document_citation_matches_text_citation(case: str, reports_data: Path) -> None:
    """The HTML citation says what format_citation says (curly quotes, no Markdown stars)."""
    for result in json.loads((reports_data / f"{case}.json").read_text(encoding="utf-8"))["results"]:
        page = render_document(result)
        block = re.search(r'<p class="citation" id="citation">(.*?)</p>', page, re.S).group(1)
        shown = html.unescape(re.sub(r"<[^>]+>", "", block))
        expected = re.sub(r'"([^"]*)"', r"“\1”", format_citation(result)).replace("*", "")
        assert shown.startswith(expected + " (")
