"""Tests for hrdiscourse.results: the one reader of a run's documents.jsonl, errors.jsonl and manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hrdiscourse.api import Corpus
from hrdiscourse.errors import ConfigError, IngestError, ResultsError, StoreError
from hrdiscourse.reports import rebuild_reports
from hrdiscourse.results import iter_documents, iter_errors, read_manifest
from hrdiscourse.store import Store

REPAIR = "a file cut off by a stopped run is repaired by 'hrdiscourse analyze ... --resume'."
GOOD = '{"doc_id": "a", "text": "x"}\n'


@pytest.mark.parametrize(
    ("content", "docs"),
    [
        (GOOD + "\n   \n" + '{"doc_id": "b"}\n', ["a", "b"]),
        ("\ufeff" + GOOD, ["a"]),  # a byte-order mark added by an editor
        ('{"doc_id": "a", "text": "line\u2028separator"}\n', ["a"]),
        ("", []),
    ],
)
def test_results_iter_documents_reads_every_result(tmp_path: Path, content: str, docs: list[str]) -> None:
    path = tmp_path / "documents.jsonl"
    path.write_text(content, encoding="utf-8")
    assert [d["doc_id"] for d in iter_documents(path)] == docs


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (GOOD + '{"doc_id": \n', 2, f"not valid JSON (Expecting value at column 12); {REPAIR}"),
        (
            GOOD + "[1, 2]\n",
            2,
            "expected a JSON object with 'doc_id', got a JSON array; "
            "is this the output of 'hrdiscourse analyze'?",
        ),
        (
            GOOD + "\n" + '{"id": "a"}\n',
            3,
            "expected a JSON object with 'doc_id', got an object without it; "
            "is this the output of 'hrdiscourse analyze'?",
        ),
        (GOOD.encode() + b'{"doc_id": "\xff"}\n', 2, "not UTF-8 text (byte 13); hrdiscourse writes UTF-8"),
    ],
)
def test_results_bad_line_names_file_line_and_fix(
    tmp_path: Path, content: str | bytes, line: int, reason: str
) -> None:
    path = tmp_path / "documents.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    seen = []
    with pytest.raises(ResultsError) as info:
        seen.extend(iter_documents(path))
    assert str(info.value).startswith(f"{path}: line {line}: {reason}")
    assert (info.value.source, info.value.location, info.value.line) == (str(path), f"line {line}", line)
    assert [d["doc_id"] for d in seen] == ["a"]  # streamed: the good line came first


@pytest.mark.parametrize("reader", [iter_documents, iter_errors])
def test_results_missing_file_raises_when_named(tmp_path: Path, reader) -> None:
    path = tmp_path / "nowhere" / "documents.jsonl"
    with pytest.raises(ResultsError, match=re.escape(f"{path}: not found; give the output folder of")):
        reader(path)  # not only once iterated


@pytest.mark.parametrize(
    ("content", "required", "expected"),
    [
        (None, False, {}),
        (None, True, "not found; give the output folder"),
        ('{"inputs": 3}', True, {"inputs": 3}),
        ("{", False, "not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        ("[]", False, "expected a JSON object, got a JSON array; rerun 'hrdiscourse analyze' to rewrite it."),
    ],
)
def test_results_read_manifest(tmp_path: Path, content: str | None, required: bool, expected) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    if isinstance(expected, dict):
        assert read_manifest(path, required=required) == expected
    else:
        with pytest.raises(ResultsError, match=re.escape(f"{path}: {expected}")):
            read_manifest(path, required=required)


def _add_run(run: Path) -> None:
    with Store(":memory:") as store:
        store.add_run(run)


@pytest.mark.parametrize(
    ("open_run", "documented"),
    [(Corpus.from_dir, ConfigError), (_add_run, StoreError), (rebuild_reports, IngestError)],
)
@pytest.mark.parametrize("problem", ["missing", "bad line"])
def test_results_each_entry_point_raises_its_documented_class(
    tmp_path: Path, report_results: list[dict], open_run, documented: type, problem: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text("{}", encoding="utf-8")
    path = run / "documents.jsonl"
    if problem == "bad line":
        path.write_text(json.dumps(report_results[0]) + "\n{not json\n", encoding="utf-8")
        message = f"{path}: line 2: not valid JSON"
    else:
        message = f"{path}: not found; give the output folder of 'hrdiscourse analyze ... --out DIR'."
    with pytest.raises(documented) as info:
        open_run(run)
    assert isinstance(info.value, ResultsError)
    assert str(info.value).startswith(message)


LINK_TEXT = (
    "The city funds harm reduction services. Police will monitor every site and women must exit the "
    "sex trade to be eligible. Critics said the program is harm reduction in name only.\n\n"
    "The ministry added a recovery plan. Harm reduction workers doubt the abstinence rule, and "
    "arrests continue. A survivor-led group was not consulted."
)


def test_results_doc_to_dict_sentences_are_those_of_context_sentences(nlp_fast) -> None:
    from hrdiscourse.nlp.context import sentences
    from hrdiscourse.nlp.serialize import _Sentences

    doc = nlp_fast(LINK_TEXT)
    sents = sentences(doc)
    assert len(sents) > 3
    with_text, without = _Sentences(doc, LINK_TEXT), _Sentences(doc)
    for k, sent in enumerate(sents):
        for i in range(sent.start, sent.end):
            expected = (k, (sent.text, sent.start_char))
            assert with_text.of(doc[i : i + 1]) == without.of(doc[i : i + 1]) == expected


def test_results_doc_to_dict_key_order(nlp_fast) -> None:
    from hrdiscourse.nlp.serialize import doc_to_dict

    out = doc_to_dict(nlp_fast(LINK_TEXT), LINK_TEXT)
    assert out["hr_mentions"] and out["signals"] and out["links"]
    tail = [
        "label",
        "sent_index",
        "sentence",
        "sent_start",
        "negated",
        "hedged",
        "quoted",
        "critical",
        "speaker",
    ]
    head = ["id", "start", "end", "text", "entry_id"]
    assert all(list(m) == head + tail for m in out["hr_mentions"])
    assert all(list(s) == [*head, "kind", "category", *tail] for s in out["signals"])
    assert [m["id"] for m in out["hr_mentions"]] == [f"m{i}" for i in range(len(out["hr_mentions"]))]
    assert out == doc_to_dict(nlp_fast(LINK_TEXT))  # sliced from the text or joined from the tokens


def test_results_linker_picks_the_nearest_mention(nlp_fast) -> None:
    from hrdiscourse.nlp.context import sentence_index

    doc = nlp_fast(LINK_TEXT)
    linker = nlp_fast.get_pipe("hrd_linker")
    mentions, signals = list(doc.spans["hrd_mentions"]), list(doc.spans["hrd_signals"])
    assert len(mentions) > 1 and len(signals) > 1
    sent_of = sentence_index(doc)

    def distance(m, s) -> int:
        return max(0, m.start - s.end, s.start - m.end)

    expected = []
    for j, sig in enumerate(signals):
        best = min(
            range(len(mentions)),
            key=lambda i: (
                abs(sent_of[mentions[i].start] - sent_of[sig.start]),
                distance(mentions[i], sig),
                i,
            ),
        )
        expected.append((best, j, abs(sent_of[mentions[best].start] - sent_of[sig.start])))
    links = linker.link(doc, mentions, signals)
    assert [(lk["mention"], lk["signal"], lk["sent_distance"]) for lk in links] == expected
    assert doc._.hrd_links == links
    assert len({lk["mention"] for lk in links}) > 1
