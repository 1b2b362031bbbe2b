"""McGill citations, endnote parentheticals and Roman-numbered endnotes (seed endnote xiii)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hrdiscourse.reports.citations import (
    COOPTING_PHRASES,
    EXTENSION_PURPOSES,
    aligned_principle,
    annotate,
    endnotes,
    extension_purpose,
    format_citation,
    format_date,
    roman,
    safe_url,
    to_markdown,
)
from hrdiscourse.types import DOC_TYPES, LABELS

DATA = Path(__file__).parent / "data" / "reports"
CASES = sorted(DATA.glob("*.json"))
# The seed report ships with the repository (with its citation, as its licence asks).
SEED_REPORT = Path(__file__).resolve().parents[1] / "corpora" / "sample" / "seed-report.md"

GRAND = {
    "author": "Robin Grand",
    "title": "Federal funding helps women at risk safely leave sex trade",
    "date": "2019-04-24",
    "outlet": "Penticton Western News",
    "url": "https://www.pentictonwesternnews.com/news/x/",
}


def _case(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("meta", "lang", "expected"),
    [
        (
            GRAND,
            "en",
            'Robin Grand, "Federal funding helps women at risk safely leave sex trade" (24 April 2019), '
            "online: *Penticton Western News* <https://www.pentictonwesternnews.com/news/x/>",
        ),
        (
            {**GRAND, "author": None},
            "en",
            '"Federal funding helps women at risk safely leave sex trade" (24 April 2019), '
            "online: *Penticton Western News* <https://www.pentictonwesternnews.com/news/x/>",
        ),
        (
            {**GRAND, "date": None},
            "en",
            'Robin Grand, "Federal funding helps women at risk safely leave sex trade", '
            "online: *Penticton Western News* <https://www.pentictonwesternnews.com/news/x/>",
        ),
        (
            {**GRAND, "url": None},
            "en",
            'Robin Grand, "Federal funding helps women at risk safely leave sex trade" (24 April 2019), '
            "*Penticton Western News*",
        ),
        (
            {**GRAND, "outlet": None},
            "en",
            'Robin Grand, "Federal funding helps women at risk safely leave sex trade" (24 April 2019), '
            "online: <https://www.pentictonwesternnews.com/news/x/>",
        ),
        ({**GRAND, "title": None, "outlet": None, "url": None}, "en", "Robin Grand (24 April 2019)"),
        ({"title": "T", "date": "Spring 2019"}, "en", '"T" (Spring 2019)'),
        ({"title": "T", "date": "2019-02-30"}, "en", '"T" (2019-02-30)'),
        ({"title": "T", "date": "2019-04"}, "en", '"T" (April 2019)'),
        ({"title": "T", "url": "javascript:alert(1)", "outlet": "O"}, "en", '"T", *O*'),
        ({"author": "None", "title": float("nan"), "date": "null"}, "en", ""),
        ({}, "en", ""),
        ({"author": ["A One", "B Two", "C Three"], "title": "T"}, "en", 'A One et al, "T"'),
        ({"author": ["A One", "B Two"], "title": 'Say "no"'}, "en", "A One & B Two, \"Say 'no'\""),
        (
            GRAND,
            "fr",
            "Robin Grand, « Federal funding helps women at risk safely leave sex trade » (24 avril 2019), "
            "en ligne : *Penticton Western News* <https://www.pentictonwesternnews.com/news/x/>",
        ),
    ],
)
def test_reports_format_citation(meta: dict, lang: str, expected: str) -> None:
    assert format_citation(meta, lang=lang) == expected


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        ("2019-04-24", "en", "24 April 2019"),
        ("2019-04-24", "fr", "24 avril 2019"),
        ("2019-04-01", "fr", "1er avril 2019"),
        ("2019-08-03T10:00:00Z", "fr", "3 août 2019"),
        ("2018", "en", "2018"),
        ("April 24th, 2019", "en", "April 24th, 2019"),
        (None, "en", ""),
    ],
)
def test_reports_format_date(value: str | None, lang: str, expected: str) -> None:
    assert format_date(value, lang=lang) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("HTTP://A.example", "HTTP://A.example"),
        ("www.cbc.ca/news", "http://www.cbc.ca/news"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ('https://a.example/"onmouseover=x', None),
        ("//evil.example", None),
        (None, None),
    ],
)
def test_reports_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    ("n", "numeral"),
    [
        (1, "i"),
        (4, "iv"),
        (9, "ix"),
        (13, "xiii"),
        (14, "xiv"),
        (22, "xxii"),
        (25, "xxv"),
        (40, "xl"),
        (99, "xcix"),
    ],
)
def test_reports_roman(n: int, numeral: str) -> None:
    assert roman(n) == numeral


@pytest.mark.parametrize("n", [0, -1, 4000])
def test_reports_roman_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="Roman numerals"):
        roman(n)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_reports_endnotes_golden(case: Path) -> None:
    data = json.loads(case.read_text(encoding="utf-8"))
    expected = case.with_suffix(".expected.md").read_text(encoding="utf-8")
    assert to_markdown(endnotes(data["results"], start=data["start"])) == expected


@pytest.mark.parametrize("note", ["xiii"])
def test_reports_seed_note_matches_report(note: str) -> None:
    """The golden file is the seed report's own line, byte for byte."""
    lines = [
        ln for ln in SEED_REPORT.read_text(encoding="utf-8").splitlines() if ln.startswith(f"- {note}. ")
    ]
    assert lines == [(DATA / "seed_xiii.expected.md").read_text(encoding="utf-8").rstrip("\n")]


@pytest.mark.parametrize(
    ("doc_id", "expected"),
    [
        ("grand-2019", "frames an exit program as part of a harm reduction approach"),
        ("rieger-2019", 'describes "support to help people leave sex work" as a harm reduction approach'),
        (
            "blanch-2019",
            "emphasizes giving sex workers the option to exit, "
            'while also mentioning a "harm reduction committee"',
        ),
    ],
)
def test_reports_annotate_seed_xiii(doc_id: str, expected: str) -> None:
    results = {r["doc_id"]: r for r in _case("seed_xiii")["results"]}
    assert annotate(results[doc_id]) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("coopted_sentence", 'links police involvement to "harm reduction services"'),
        ("no_author_nearby", 'links an exit program to "harm reduction"'),
        ("extension_no_url", 'develops a "harm reduction strategy" to mitigate harm from climate change'),
        ("critical_no_outlet", "criticizes exit programs presented as harm reduction"),
        ("opposed_raw_date", "rejects harm reduction in favour of abstinence and exiting"),
        ("aligned_no_date", "uses harm reduction language consistent with agency and self-determination"),
        ("no_metadata", "frames police involvement as part of a harm reduction approach"),
    ],
)
def test_reports_annotate_forms(case: str, expected: str) -> None:
    assert annotate(_case(case)["results"][0]) == expected


def _with(result: dict, **changes) -> dict:
    out = json.loads(json.dumps(result))
    out.update(changes)
    return out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # The direct link's signal becomes negated: the nearby exit link is the best one left.
        ("negate_direct", 'links an exit program to a "harm reduction approach"'),
        ("label_none", ""),
        (
            "no_links",
            "emphasizes giving sex workers the option to exit, "
            'while also mentioning a "harm reduction approach"',
        ),
    ],
)
def test_reports_annotate_follows_links(change: str, expected: str) -> None:
    result = json.loads(json.dumps(_case("seed_xiii")["results"][0]))
    if change == "negate_direct":
        next(s for s in result["signals"] if s["id"] == "s2")["negated"] = True
    elif change == "label_none":
        result["label"] = "none"
    elif change == "no_links":
        result["links"] = []
    assert annotate(result) == expected


@pytest.mark.parametrize("case", ["numbering_xxi"])
def test_reports_endnotes_groups_and_skips_none(case: str) -> None:
    notes = endnotes(_case(case)["results"], start=21)
    assert [n.numeral for n in notes] == ["xxi", "xxii"]
    assert [[i.doc_id for i in n.items] for n in notes] == [["critique", "critique-2"], ["carbon-tax"]]
    assert notes[0].pattern == ("critical", "exit_abstinence")
    assert notes[0].text.startswith("See e.g. Alex Writer, ") and notes[0].text.endswith(").")
    assert "; " in notes[0].text


_TOP = {
    "doc_id": str,
    "source": str,
    "doc_type": str,
    "language": str,
    "label": str,
    "label_scores": dict,
    "hr_mentions": list,
    "signals": list,
    "links": list,
    "evidence": list,
    "annotation": str,
    "citation": str,
    "lexicons": dict,
    "model": dict,
    "text": str,
}
_SPAN = ("id", "start", "end", "text", "entry_id", "sent_index", "sentence", "sent_start")
_FLAGS = ("negated", "hedged", "quoted", "critical")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_reports_test_data_follows_schema(case: Path) -> None:
    """The hand-made results follow docs/schema.md, offsets included."""
    for r in json.loads(case.read_text(encoding="utf-8"))["results"]:
        for key, typ in _TOP.items():
            assert isinstance(r[key], typ), (r["doc_id"], key)
        for key in ("url", "title", "author", "date", "outlet"):
            assert r[key] is None or isinstance(r[key], str)
        assert r["label"] in LABELS and set(r["label_scores"]) == set(LABELS)
        assert r["doc_type"] in DOC_TYPES and r["evidence"]
        ids = set()
        for span in r["hr_mentions"] + r["signals"]:
            assert all(k in span for k in (*_SPAN, *_FLAGS, "speaker"))
            assert r["text"][span["start"] : span["end"]] == span["text"]
            assert r["text"][span["sent_start"] :].startswith(span["sentence"])
            ids.add(span["id"])
        for m in r["hr_mentions"]:
            assert m["label"] == "HARM_REDUCTION"
        for s in r["signals"]:
            assert (
                s["kind"] in ("coopting", "extension", "aligned") and s["category"] == s["category"].lower()
            )
        for link in r["links"]:
            assert {link["mention"], link["signal"]} <= ids
            assert link["strength"] in ("direct", "sentence", "nearby", "document")


@pytest.mark.parametrize(
    ("text", "mention", "expected"),
    [
        ("It set up a harm reduction committee.", "harm reduction", 'a "harm reduction committee"'),
        ("We take a harm-reduction lens here.", "harm-reduction", 'a "harm-reduction lens"'),
        ("Police offer harm reduction services.", "harm reduction", '"harm reduction services"'),
        ("This is a harm reduction approach.", "harm reduction approach", 'a "harm reduction approach"'),
        ("Harm reduction matters to us.", "Harm reduction", '"Harm reduction"'),
        ("Harm reduction, they said.", "Harm reduction", '"Harm reduction"'),
    ],
)
def test_reports_hr_phrase_verbatim(text: str, mention: str, expected: str) -> None:
    """The HR mention grows to its noun phrase, copied from the text as written."""
    start = text.index(mention)
    result = {
        "label": "copresent",
        "text": text + " Women can exit the sex trade.",
        "hr_mentions": [{"id": "m0", "start": start, "end": start + len(mention), "text": mention}],
        "signals": [
            {
                "id": "s0",
                "start": len(text) + 9,
                "end": len(text) + 13,
                "text": "exit",
                "kind": "coopting",
                "category": "exit_abstinence",
            }
        ],
        "links": [{"mention": "m0", "signal": "s0", "strength": "document", "sent_distance": 1}],
    }
    assert (
        annotate(result)
        == f"emphasizes giving sex workers the option to exit, while also mentioning {expected}"
    )


def _lexicon_labels(name: str) -> list[str]:
    import yaml

    path = Path(__file__).resolve().parents[1] / "lexicons" / f"{name}.yaml"
    if not path.exists():
        return []
    return [lb.lower() for lb in yaml.safe_load(path.read_text(encoding="utf-8"))["meta"]["labels"]]


@pytest.mark.parametrize("category", _lexicon_labels("coopting_signals") or ["exit_abstinence"])
def test_reports_phrase_table_covers_coopting_lexicon(category: str) -> None:
    assert category in COOPTING_PHRASES


@pytest.mark.parametrize("category", _lexicon_labels("aligned_principles") or ["aligned_agency"])
def test_reports_phrase_table_covers_aligned_lexicon(category: str) -> None:
    assert aligned_principle(category) is not None


@pytest.mark.parametrize("category", _lexicon_labels("domain_extension") or ["extension_climate"])
def test_reports_phrase_table_covers_extension_lexicon(category: str) -> None:
    assert not extension_purpose(category).startswith("address harms outside")
    assert dict(EXTENSION_PURPOSES).get(category.removeprefix("extension_")) or any(
        needle in category for needle, _ in EXTENSION_PURPOSES
    )


# --- fast paths compared with the plain computations ---------------------------------------


def _plain_safe_url(value: object) -> str | None:
    """safe_url as it was written before the regex test of the refused characters."""
    import re

    from hrdiscourse.reports.citations import _clean

    url = _clean(value)
    if not url or any(ord(c) < 32 or c in "<>\"'` " for c in url):
        return None
    low = url.lower()
    if low.startswith("www."):
        url, low = "http://" + url, "http://" + low
    if re.match(r"^https?://[^/?#\s]+", low):
        return url
    return None


def test_reports_safe_url_equals_the_plain_check() -> None:
    import random

    # control characters, whitespace, quotes and brackets in and around http(s) addresses
    pieces = "https:// http:// www. HTTP:// a.example /x ?q=1 #f javascript: // é".split()
    pieces += [" ", "\t", "\n", "\x00", "\x01", "\x1b", "\x1f", "\x7f", "<", ">", '"', "'", "`"]
    rng = random.Random(0)
    for _ in range(5000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert safe_url(url) == _plain_safe_url(url), repr(url)


def _in_evidence(result: dict, signal: dict) -> bool:
    pos = signal.get("start")
    for ev in result.get("evidence") or []:
        if isinstance(pos, int) and isinstance(ev.get("start"), int) and isinstance(ev.get("end"), int):
            if ev["start"] <= pos < ev["end"]:
                return True
    return False


def _plain_best_link(result: dict, kind: str) -> tuple | None:
    """best_link as it was written before the per-document caches (the reference)."""
    from hrdiscourse.reports.citations import (
        _DESCRIPTIVE_CATEGORIES,
        _RANK,
        STRENGTHS,
        _usable,
        hr_phrase,
    )

    mentions = {m.get("id"): m for m in result.get("hr_mentions") or []}
    signals = {s.get("id"): s for s in result.get("signals") or []}
    text = result.get("text") or ""
    best = None
    for order, link in enumerate(result.get("links") or []):
        m, s = mentions.get(link.get("mention")), signals.get(link.get("signal"))
        if not (_usable(m) and _usable(s)) or (s.get("kind") or "coopting") != kind:
            continue
        key = (
            _RANK.get(link.get("strength"), len(STRENGTHS)),
            1 if s.get("category") in _DESCRIPTIVE_CATEGORIES else 0,
            0 if _in_evidence(result, s) else 1,
            0 if hr_phrase(text, m)[1] else 1,
            order,
        )
        if best is None or key < best[0]:
            best = (key, (link, m, s))
    return best[1] if best else None


def test_reports_best_link_equals_the_plain_choice() -> None:
    import random

    from hrdiscourse.reports.citations import best_link

    results = [r for case in CASES for r in json.loads(case.read_text(encoding="utf-8"))["results"]]
    rng = random.Random(0)
    strengths = ["direct", "sentence", "nearby", "document", "bogus"]
    categories = ["exit_abstinence", "victim_deviance", "trafficking_exploitation", "extension_climate"]
    checked = 0
    for _ in range(40):
        for original in results:
            result = json.loads(json.dumps(original))
            signals, mentions = result.get("signals") or [], result.get("hr_mentions") or []
            for s in signals:
                s["category"] = rng.choice([s.get("category"), *categories])
                s["negated"] = rng.random() < 0.2
                s["kind"] = rng.choice([s.get("kind"), "coopting", "extension"])
            links = [
                {
                    "mention": rng.choice(mentions)["id"] if mentions else "m0",
                    "signal": rng.choice(signals)["id"] if signals else "s0",
                    "strength": rng.choice(strengths),
                }
                for _ in range(rng.randint(0, 12))
            ]
            result["links"] = (result.get("links") or []) + links
            rng.shuffle(result["links"])
            text_length = len(result.get("text") or "")
            result["evidence"] = [
                {"start": a, "end": a + rng.randint(0, 300), "sentence": "", "reason": "", "weight": 1.0}
                for a in (rng.randint(0, max(text_length, 1)) for _ in range(rng.randint(0, 4)))
            ]
            for kind in ("coopting", "extension", "aligned"):
                assert best_link(result, kind=kind) == _plain_best_link(result, kind)
                checked += 1
    assert checked > 1000
