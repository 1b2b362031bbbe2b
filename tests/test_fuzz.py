"""Property tests: arbitrary input gives records or reasons, and results that follow the schema.

Reading never raises anything but :class:`~hrdiscourse.errors.IngestError` (or, with an
error list, nothing); analysing arbitrary text gives a result with every schema key,
spans whose offsets index the text, and links that refer to those spans.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrdiscourse.analysis import RESULT_KEYS, Analyzer
from hrdiscourse.errors import HRDiscourseError, IngestError
from hrdiscourse.ingest import read_corpus
from hrdiscourse.nlp.serialize import doc_to_dict
from hrdiscourse.nlp.twopass import TwoPass
from hrdiscourse.types import LABELS, Record, Rejected

# Odd metadata ("date: news") warns by design; the warnings are not under test here.
pytestmark = pytest.mark.filterwarnings("ignore::hrdiscourse.errors.HRDiscourseWarning")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Any character but lone surrogates (which no file can hold), controls and invisibles included.
CHARS = st.characters(blacklist_categories=("Cs",))
ODD = st.sampled_from(
    [
        "\x00",
        "\x1b",
        "\x7f",
        "\u200b",
        "\u200d",
        "\u202e",
        "\ufeff",
        "\u2028",
        "\r",
        "\r\n",
        "\t",
        "\n\n\n",
        '"',
        "'",
        "“",
        "”",
        "«",
        "»",
        "\\",
        "---\n",
        "é",
        "\U0001f489",
        "x" * 3000,
    ]
)
#: Pieces that fire the lexicons and the context cues, so spans, links and labels vary.
WORDS = st.sampled_from(
    [
        "harm reduction",
        "Harm-reduction approach",
        "réduction des méfaits",
        "so-called harm reduction",
        "is not harm reduction",
        "exit the sex trade",
        "exit program",
        "police",
        "rescue",
        "victims",
        "trafficking",
        "must",
        "sex worker-led",
        "decriminalization",
        "carbon tax",
        "said",
        "the minister said",
        "does not require",
        ". ",
        "? ",
        "! ",
        " ",
        "\n",
    ]
)
PHRASES = st.lists(st.one_of(WORDS, WORDS, ODD, st.text(CHARS, max_size=8)), min_size=1, max_size=20).map(
    " ".join
)
TEXTS = st.one_of(
    # A harm-reduction mention among lexicon words and odd pieces: spans, cues and links.
    st.builds("{} harm reduction {}{}".format, PHRASES, PHRASES, PHRASES),
    PHRASES,
    # Glued together: tokens that straddle matches, quotes and invisible characters.
    st.lists(st.one_of(WORDS, ODD, st.text(CHARS, max_size=12)), max_size=40).map("".join),
    st.text(CHARS, max_size=400),
)
META_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(CHARS, max_size=60),
    st.lists(st.text(CHARS, max_size=5), max_size=3),
    st.dictionaries(st.text(CHARS, max_size=5), st.text(CHARS, max_size=5), max_size=2),
    st.sampled_from(
        ["../../etc/passwd", "a/b\\c", "2019-04-24", "24 April 2019", "news", "fr", "javascript:x"]
    ),
)
META_KEYS = st.sampled_from(
    ["id", "title", "author", "date", "outlet", "url", "doc_type", "language", "other"]
)
METAS = st.dictionaries(META_KEYS, META_VALUES, max_size=6)


def _check_items(records: list[Record], errors: list[Rejected]) -> None:
    for record in records:
        assert isinstance(record, Record)
        assert isinstance(record.text, str) and record.text.strip()
        assert isinstance(record.doc_id, str) and record.doc_id
        assert "\x00" not in record.text and "\x00" not in record.doc_id
        for key in ("title", "author", "date", "outlet", "url", "doc_type", "language"):
            value = record.meta.get(key)
            assert value is None or isinstance(value, str), (key, value)
    for error in errors:
        assert isinstance(error, Rejected)
        assert isinstance(error.reason, str) and error.reason.strip()
        assert "Traceback" not in error.reason and "unexpected error" not in error.reason, error.reason


def _read(path: Path) -> tuple[list[Record], list[Rejected]]:
    errors: list[Rejected] = []
    records = list(read_corpus(path, errors=errors))
    _check_items(records, errors)
    # Without an error list, the first rejection raises IngestError and nothing else.
    try:
        list(read_corpus(path))
    except IngestError:
        assert errors
    else:
        assert not errors
    return records, errors


@SETTINGS
@given(rows=st.lists(st.tuples(st.one_of(TEXTS, META_VALUES), METAS), min_size=1, max_size=6))
def test_fuzz_read_corpus_jsonl(rows: list[tuple[object, dict]]) -> None:
    lines = [json.dumps({**meta, "text": text}, ensure_ascii=False) for text, meta in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        records, errors = _read(path)
    # One input per line: every line is a record or a rejection.
    assert len(records) + len(errors) == len(lines)
    found = [r.source.rsplit(":", 1)[1] for r in records] + [e.location for e in errors]
    assert sorted(found) == sorted(f"line {n}" for n in range(1, len(lines) + 1))


@SETTINGS
@given(
    header=st.lists(st.sampled_from(["id", "title", "author", "date", "outlet", "url", "x"]), unique=True),
    rows=st.lists(
        st.tuples(TEXTS, st.lists(st.text(CHARS, max_size=20), min_size=7, max_size=7)), max_size=5
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_fuzz_read_corpus_csv(header: list[str], rows: list[tuple[str, list[str]]], delimiter: str) -> None:
    columns = ["text", *header]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(columns)
    for text, cells in rows:
        writer.writerow([text, *cells[: len(header)]])
    suffix = ".tsv" if delimiter == "\t" else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in{suffix}"
        path.write_text(buf.getvalue(), encoding="utf-8")
        records, errors = _read(path)
    assert len(records) + len(errors) >= 1  # never silently nothing
    assert len(records) <= len(rows)


@SETTINGS
@given(meta=METAS, front=st.text(CHARS, max_size=200), body=TEXTS, raw_front=st.booleans())
def test_fuzz_read_corpus_front_matter(meta: dict, front: str, body: str, raw_front: bool) -> None:
    block = front if raw_front else yaml.safe_dump(meta, allow_unicode=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.md"
        path.write_text(f"---\n{block}\n---\n{body}", encoding="utf-8")
        records, errors = _read(path)
    # A text file is exactly one input.
    assert len(records) + len(errors) == 1


# --- pipeline, classifier and serialisation ----------------------------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    """The analyzer the runner uses in fast mode: pipeline + classifier + citations."""
    return Analyzer(mode="fast")


@pytest.fixture(scope="module")
def twopass(analyzer: Analyzer, nlp_full) -> TwoPass:
    """The default mode's two-pass analysis, on the session's trained pipeline."""
    return TwoPass(analyzer.nlp, nlp_full)


def _check_spans(text: str, spans: dict) -> None:
    ids = {}
    for kind in ("hr_mentions", "signals"):
        for span in spans[kind]:
            assert 0 <= span["start"] < span["end"] <= len(text), span
            assert text[span["start"] : span["end"]] == span["text"], span
            s0 = span["sent_start"]
            assert 0 <= s0 <= span["start"], span
            assert text[s0 : s0 + len(span["sentence"])] == span["sentence"], span
            assert span["id"] not in ids
            ids[span["id"]] = kind
    for link in spans["links"]:
        assert ids.get(link["mention"]) == "hr_mentions" and ids.get(link["signal"]) == "signals", link
        assert link["strength"] in ("direct", "sentence", "nearby", "document")
        assert isinstance(link["sent_distance"], int) and link["sent_distance"] >= 0


def _check_result(result: dict, text: str, meta: dict | None = None) -> None:
    assert set(RESULT_KEYS) <= set(result)
    assert result["text"] == text
    assert result["label"] in LABELS
    assert set(result["label_scores"]) == set(LABELS)
    assert all(math.isfinite(v) for v in result["label_scores"].values())
    assert result["evidence"], "a label without evidence"
    for ev in result["evidence"]:
        assert 0 <= ev["start"] <= ev["end"] <= len(text), ev
        if ev["end"] > ev["start"]:
            assert text[ev["start"] : ev["end"]] == ev["sentence"], ev
    assert isinstance(result["citation"], str)
    # a missing field must not print as "None" (unless the metadata itself says None)
    if not any("None" in str(v) for v in (meta or {}).values()):
        assert "None" not in result["citation"]
    _check_spans(text, result)
    # documents.jsonl: one strict JSON line that reads back the same.
    line = json.dumps(result, ensure_ascii=False, allow_nan=False)
    assert "\n" not in line
    assert json.loads(line) == result


@SETTINGS
@given(text=TEXTS, meta=st.dictionaries(st.sampled_from(["title", "author", "outlet", "url", "date"]), TEXTS))
def test_fuzz_analyzer_result_follows_schema(analyzer: Analyzer, text: str, meta: dict) -> None:
    record = Record(text, {"doc_id": "fuzz", "source": "fuzz.txt", **meta})
    try:
        ((_, _, result),) = list(analyzer.analyze_records([(record, None)]))
    except HRDiscourseError:
        return
    _check_result(result, text, meta)


@SETTINGS
@given(text=TEXTS)
def test_fuzz_full_pipeline_spans_index_the_text(nlp_full, text: str) -> None:
    _check_spans(text, doc_to_dict(nlp_full(text)))


@SETTINGS
@given(texts=st.lists(TEXTS, min_size=1, max_size=3))
def test_fuzz_default_mode_spans_index_the_text(twopass: TwoPass, texts: list[str]) -> None:
    merged = list(twopass.pipe(texts))
    assert len(merged) == len(texts)
    for text, spans in zip(texts, merged, strict=True):
        _check_spans(text, spans)
