"""The researcher's API: analyze() inputs, Corpus tables, concordance, endnotes, displaCy view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import hrdiscourse
from hrdiscourse.api import DOCUMENT_COLUMNS, LINK_COLUMNS, SPAN_COLUMNS, Corpus
from hrdiscourse.errors import ConfigError
from hrdiscourse.types import LABELS, Record

TEXT = (
    "Federal funding will help women leave the sex trade, the minister announced. "
    "The exit program is part of a harm reduction approach, according to the director. "
    "Participants receive counselling. The agency also runs a food bank."
)


def _span(text: str, phrase: str, sid: str, category: str | None, **flags: object) -> dict:
    start = text.index(phrase)
    sents = [m.span() for m in re.finditer(r"[^.]+\.", text)]
    idx, (s_start, s_end) = next((i, se) for i, se in enumerate(sents) if se[0] <= start < se[1])
    lead = len(text[s_start:s_end]) - len(text[s_start:s_end].lstrip())
    span = {
        "id": sid,
        "start": start,
        "end": start + len(phrase),
        "text": phrase,
        "entry_id": f"{category or 'hr'}-001",
        "label": (category or "harm_reduction").upper(),
        "sent_index": idx,
        "sentence": text[s_start + lead : s_end],
        "sent_start": s_start + lead,
        "negated": False,
        "hedged": False,
        "quoted": False,
        "critical": False,
        "speaker": None,
    }
    if category:
        span.update(kind="extension" if category.startswith("extension") else "coopting", category=category)
    span.update(flags)
    return span


def _result(doc_id: str = "d1", text: str = TEXT, label: str = "coopted", **meta: object) -> dict:
    mentions = [_span(text, "harm reduction", "m0", None)] if "harm reduction" in text else []
    signals = []
    for i, (phrase, cat) in enumerate(
        [("leave the sex trade", "exit_abstinence"), ("exit program", "exit_abstinence")]
    ):
        if phrase in text:
            signals.append(_span(text, phrase, f"s{i}", cat))
    links = [{"mention": "m0", "signal": s["id"], "strength": "direct", "sent_distance": 0} for s in signals][
        :1
    ]
    base = {
        "doc_id": doc_id,
        "source": f"in/{doc_id}.txt",
        "url": None,
        "title": "Funding helps women leave",
        "author": "Robin Grand",
        "date": "2019-04-24",
        "outlet": "Western News",
        "doc_type": "news",
        "language": "en",
        "label": label,
        "label_scores": {lb: (0.88 if lb == label else 0.02) for lb in LABELS},
        "hr_mentions": mentions,
        "signals": signals,
        "links": links if mentions else [],
        "evidence": [],
        "annotation": "frames an exit program as part of a harm reduction approach",
        "citation": "",
        "text": text,
    }
    base.update(meta)
    return base


# --- analyze() ----------------------------------------------------------------------------

SHORT = "The ministry said its program helps women leave the sex trade, as part of a harm reduction approach."
OTHER = "City council approved the new bus schedule on Tuesday after a short debate."


@pytest.fixture(scope="module")
def text_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("texts")
    (folder / "a.txt").write_text(f"---\ntitle: A story\n---\n{SHORT}\n", encoding="utf-8")
    (folder / "b.md").write_text(OTHER + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("make_inputs", "n_docs", "sources"),
    [
        (lambda d: SHORT, 1, ["<text 1>"]),
        (lambda d: [SHORT, OTHER], 2, ["<text 1>", "<text 2>"]),
        (lambda d: Record(SHORT, {"doc_id": "r1", "source": "mine"}), 1, ["mine"]),
        (lambda d: [{"text": OTHER, "title": "Buses", "id": "bus"}], 1, ["<text 1>"]),
        (lambda d: d / "a.txt", 1, None),
        (lambda d: str(d), 2, None),
        (lambda d: [d / "a.txt", d / "b.md"], 2, None),
    ],
    ids=["text", "texts", "record", "mapping", "path", "folder-str", "paths"],
)
def test_api_analyze_accepts_every_input_kind(make_inputs, n_docs: int, sources, text_files: Path) -> None:
    corpus = hrdiscourse.analyze(make_inputs(text_files), mode="fast")
    assert isinstance(corpus, Corpus)
    assert len(corpus) == n_docs
    assert len(corpus.documents) == n_docs
    assert set(corpus.documents["label"]) <= set(LABELS)
    if sources is not None:
        assert list(corpus.documents["source"]) == sources
    for result in corpus:
        assert result["doc_id"] and result["text"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("no/such/file.txt", "input 1: 'no/such/file.txt' looks like a path but does not exist"),
        ([SHORT, 42], "input 2: a int is neither a path, a text, a mapping with 'text' nor a Record"),
        ([{"title": "no text"}], "input 1: a mapping needs a str 'text'"),
    ],
)
def test_api_analyze_rejects_unusable_inputs(inputs, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        hrdiscourse.analyze(inputs, mode="fast")


@pytest.mark.parametrize("mode", ["fastest"])
def test_api_analyze_rejects_unknown_mode(mode: str) -> None:
    with pytest.raises(ConfigError, match="mode 'fastest' is not one of default, full, fast"):
        hrdiscourse.analyze(SHORT, mode=mode)


@pytest.mark.parametrize("inputs", [[SHORT, SHORT, "   ", OTHER]])
def test_api_analyze_keeps_duplicates_and_rejected_apart(inputs: list[str]) -> None:
    corpus = hrdiscourse.analyze(inputs, mode="fast")
    assert len(corpus) == 2
    assert [d["source"] for d in corpus.duplicates] == ["<text 2>"]
    assert [e["source"] for e in corpus.errors] == ["<text 3>"]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "label"), [(SHORT, "coopted"), (OTHER, "none")])
def test_api_analyze_labels_documents_end_to_end(text: str, label: str) -> None:
    corpus = hrdiscourse.analyze(text, mode="full")
    (result,) = list(corpus)
    assert result["label"] == label
    if label != "none":
        assert not corpus.mentions.empty
        row = corpus.mentions.iloc[0]
        assert text[row.start : row.end] == row.text


# --- Corpus.from_dir and tables -------------------------------------------------------------


@pytest.mark.parametrize("columns", [DOCUMENT_COLUMNS])
def test_api_from_dir_reads_a_run(report_run: Path, report_results: list[dict], columns) -> None:
    corpus = Corpus.from_dir(report_run)
    assert len(corpus) == len(report_results)
    assert [r["doc_id"] for r in corpus] == [r["doc_id"] for r in report_results]
    assert tuple(corpus.documents.columns) == columns
    assert corpus.errors == [{"source": "in/empty.txt", "location": "", "reason": "empty"}]
    assert corpus.manifest["analysed"] == 16
    assert corpus["grand-2019"]["title"].startswith("Federal funding")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "documents.jsonl: not found; give the output folder of 'hrdiscourse analyze ... --out DIR'."),
        ('{"doc_id": "a"}\n{"doc_id": \n', "documents.jsonl: line 2: not valid JSON"),
        ('{"doc_id": "a"}\n[1, 2]\n', "documents.jsonl: line 2: expected a JSON object with 'doc_id'"),
        ('{"doc_id": "a"}\n{"doc_id": "a"}\n', "result 2: doc_id 'a' appears twice"),
    ],
)
def test_api_from_dir_reports_bad_runs(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "documents.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        Corpus.from_dir(tmp_path)


@pytest.mark.parametrize("doc_id", ["d1"])
def test_api_documents_table_has_one_row_per_document(doc_id: str) -> None:
    corpus = Corpus([_result(doc_id), _result("d2", text=OTHER, label="none", date="March 2020?")])
    docs = corpus.documents.set_index("doc_id")
    assert docs.loc[doc_id, "label"] == "coopted"
    assert docs.loc[doc_id, "score_coopted"] == pytest.approx(0.88)
    assert docs.loc[doc_id, "year"] == 2019
    assert pd.isna(docs.loc["d2", "year"])
    assert (docs.loc[doc_id, "n_mentions"], docs.loc[doc_id, "n_signals"], docs.loc[doc_id, "n_links"]) == (
        1,
        2,
        1,
    )
    assert docs.loc["d2", "n_signals"] == 0


@pytest.mark.parametrize("table", ["mentions", "signals", "spans"])
def test_api_span_tables_point_into_the_text(report_results: list[dict], table: str) -> None:
    corpus = Corpus(report_results)
    df = getattr(corpus, table)
    assert tuple(df.columns) == SPAN_COLUMNS
    expected = {
        "mentions": sum(len(r["hr_mentions"]) for r in report_results),
        "signals": sum(len(r["signals"]) for r in report_results),
    }
    expected["spans"] = expected["mentions"] + expected["signals"]
    assert len(df) == expected[table]
    for row in df.itertuples():
        assert corpus[row.doc_id]["text"][row.start : row.end] == row.text
    if table == "mentions":
        assert set(df["category"]) == {"harm_reduction"} and set(df["kind"]) == {"hr"}


@pytest.mark.parametrize("doc_id", ["d1"])
def test_api_links_table_names_both_ends(doc_id: str) -> None:
    corpus = Corpus([_result(doc_id)])
    links = corpus.links
    assert tuple(links.columns) == LINK_COLUMNS
    assert links.iloc[0].to_dict() == {
        "doc_id": doc_id,
        "mention": "m0",
        "signal": "s0",
        "strength": "direct",
        "sent_distance": 0,
        "mention_text": "harm reduction",
        "signal_text": "leave the sex trade",
        "signal_kind": "coopting",
        "signal_category": "exit_abstinence",
    }


@pytest.mark.parametrize("empty", [[]])
def test_api_empty_corpus_tables_keep_their_columns(empty: list) -> None:
    corpus = Corpus(empty)
    assert len(corpus) == 0
    assert tuple(corpus.documents.columns) == DOCUMENT_COLUMNS
    assert tuple(corpus.spans.columns) == SPAN_COLUMNS
    assert corpus.concordance().empty
    assert corpus.to_endnotes() == ""


# --- concordance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "window", "expected"),
    [
        (
            "harm_reduction",
            0,
            [("The exit program is part of a", "harm reduction", "approach, according to the director.")],
        ),
        (
            "exit_abstinence",
            0,
            [
                ("Federal funding will help women", "leave the sex trade", ", the minister announced."),
                ("The", "exit program", "is part of a harm reduction approach, according to the director."),
            ],
        ),
        (
            "harm_reduction",
            1,
            [
                (
                    "Federal funding will help women leave the sex trade, the minister announced. "
                    "The exit program is part of a",
                    "harm reduction",
                    "approach, according to the director. Participants receive counselling.",
                )
            ],
        ),
    ],
)
def test_api_concordance_gives_sentence_context(category: str, window: int, expected: list[tuple]) -> None:
    kwic = Corpus([_result()]).concordance(category, window=window)
    got = [(row.left.strip(), row.match, row.right.strip()) for row in kwic.itertuples()]
    assert got == expected
    assert set(kwic["category"]) == {category}


@pytest.mark.parametrize(("label", "n_rows"), [("coopted", 3), (["none"], 0), (None, 3)])
def test_api_concordance_filters_by_label(label, n_rows: int) -> None:
    corpus = Corpus([_result(), _result("d2", text=OTHER, label="none")])
    assert len(corpus.concordance(label=label)) == n_rows


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"window": -1}, "window=-1: give a whole number"), ({"label": "cooptd"}, "label 'cooptd' unknown")],
)
def test_api_concordance_rejects_bad_options(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        Corpus([_result()]).concordance(**kwargs)


# --- endnotes and rendering ------------------------------------------------------------------


@pytest.mark.parametrize("case", ["seed_xiii"])
def test_api_to_endnotes_matches_the_seed_note(reports_data: Path, case: str) -> None:
    data = json.loads((reports_data / f"{case}.json").read_text(encoding="utf-8"))
    expected = (reports_data / f"{case}.expected.md").read_text(encoding="utf-8")
    assert Corpus(data["results"]).to_endnotes(start=data["start"]).strip() == expected.strip()


def _token_chunks(html: str) -> list[str]:
    return html.split('<span style="font-weight: bold; display: inline-block; position: relative;')[1:]


@pytest.mark.parametrize(
    ("outer", "inner"), [("harm reduction policing", "harm reduction"), ("exit program", "program")]
)
def test_api_render_draws_overlapping_spans(outer: str, inner: str) -> None:
    text = f"The city calls its {outer} a success."
    result = _result(text=text)
    result["hr_mentions"] = []
    result["signals"] = [
        _span(text, outer, "s0", "law_enforcement"),
        _span(text, inner, "s1", "exit_abstinence"),
    ]
    html = Corpus([result]).render("d1")
    assert "LAW_ENFORCEMENT" in html and "EXIT_ABSTINENCE" in html
    from hrdiscourse.reports.document import category_colour

    both = [c for c in _token_chunks(html) if inner.split()[0] in c.split("\n")[1]]
    assert both, "the token inside both spans is not drawn as a span token"
    assert category_colour("law_enforcement") in both[0] and category_colour("exit_abstinence") in both[0]
    # The inner span sits one slot lower than the outer one.
    assert "top: 40px" in both[0] and "top: 57px" in both[0]


@pytest.mark.parametrize("doc_id", ["../../evil/<script>"])
def test_api_render_escapes_text_and_title(report_results: list[dict], doc_id: str) -> None:
    html = Corpus(report_results).render(doc_id)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("doc_id", ["missing"])
def test_api_getitem_names_unknown_ids(doc_id: str) -> None:
    with pytest.raises(KeyError, match="no document with doc_id 'missing'"):
        Corpus([_result()]).render(doc_id)


@pytest.mark.parametrize("name", ["audit", "analyze", "sample", "agreement", "to_gold", "export"])
def test_api_public_names_stay_functions_after_use(name: str) -> None:
    import importlib

    first = getattr(hrdiscourse, name)
    importlib.import_module(first.__module__)  # importing the submodule must not shadow the function
    assert callable(getattr(hrdiscourse, name)) and getattr(hrdiscourse, name) is first
