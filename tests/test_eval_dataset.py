"""The evaluation-set format: loader errors name file:line, and the shipped statements set is sound."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import (
    CATEGORIES,
    EvalItem,
    EvalSetError,
    GoldQuote,
    align_doc_ids,
    doc_stem,
    load_eval_set,
    parse_item,
    resolve_gold_spans,
    validate_against_store,
    write_eval_set,
)

STATEMENTS = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "statements.jsonl"

GOOD = {"id": "q1", "question": "What did Lavrov say about the OSCE?", "answerable": True,
        "gold_docs": ["doc-a"], "gold_quotes": [{"doc_id": "doc-a", "quote": "deplorable situation"}]}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- loader ----------------------------------------------------------------------------------
def test_loads_a_good_file_skipping_blanks_and_comments(tmp_path: Path) -> None:
    unanswerable = {"id": "q2", "question": "Who won the 2018 World Cup?", "answerable": False,
                    "filters": {"speaker": ["Putin", "Lavrov"], "since": "2018", "until": "2018-12-31"}}
    path = _write(tmp_path, ["# a comment", json.dumps(GOOD), "", json.dumps(unanswerable)])
    first, second = load_eval_set(path)
    assert first.gold_quotes == [GoldQuote("doc-a", "deplorable situation")]
    assert first.filters.as_kwargs() == {}
    assert not second.answerable and second.gold_docs == []
    assert second.filters.as_kwargs() == {"speaker": ["Putin", "Lavrov"], "since": "2018", "until": "2018-12-31"}


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(GOOD), '{"id": "q2", "question": '])
    with pytest.raises(EvalSetError, match=rf"{path.name}:2: not valid JSON"):
        load_eval_set(path)


def test_missing_question_names_file_and_line(tmp_path: Path) -> None:
    bad = {k: v for k, v in GOOD.items() if k != "question"} | {"id": "q2"}
    path = _write(tmp_path, [json.dumps(GOOD), "", json.dumps(bad)])
    with pytest.raises(EvalSetError, match=rf"{path.name}:3: missing required key\(s\): question"):
        load_eval_set(path)


@pytest.mark.parametrize("change, message", [
    ({"answerable": "yes"}, "'answerable' must be true or false, got a string"),
    ({"question": 42}, "'question' must be a non-empty string, got a number"),
    ({"gold_docs": "doc-a"}, "'gold_docs' must be a list of non-empty strings"),
    ({"gold_quotes": [{"doc_id": "doc-a"}]}, r"gold_quotes\[0\] must be an object with exactly 'doc_id' and 'quote'"),
    ({"gold_spans": [{"doc_id": "doc-a", "char_start": 5, "char_end": "9"}]}, r"gold_spans\[0\].char_end must be"),
    ({"gold_spans": [{"doc_id": "doc-a", "char_start": 9, "char_end": 5}]}, "empty or reversed"),
    ({"filters": {"since": "May 2023"}}, "filters.since must be a date"),
    ({"filters": {"speakr": "Putin"}}, "unknown filter"),
    ({"gold_doc": ["doc-a"]}, "unknown key"),
    ({"gold_docs": ["doc-b"]}, "cites 'doc-a', which is not in gold_docs"),
    ({"gold_docs": [], "gold_quotes": []}, "has no gold_docs"),
    ({"answerable": False}, "must not list gold evidence"),
])
def test_wrong_types_and_inconsistencies_name_file_and_line(tmp_path: Path, change: dict, message: str) -> None:
    path = _write(tmp_path, [json.dumps(GOOD | change)])
    with pytest.raises(EvalSetError, match=rf"{path.name}:1: .*{message}"):
        load_eval_set(path)


def test_not_an_object_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match=r":1: expected a JSON object, got a list"):
        load_eval_set(_write(tmp_path, ["[1, 2]"]))
    with pytest.raises(EvalSetError, match=r":2: duplicate id 'q1' \(first used on line 1\)"):
        load_eval_set(_write(tmp_path, [json.dumps(GOOD), json.dumps(GOOD)]))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match="no questions"):
        load_eval_set(_write(tmp_path, ["# only a comment"]))
    with pytest.raises(FileNotFoundError, match="evaluation set not found"):
        load_eval_set(tmp_path / "nope.jsonl")


def test_gold_docs_default_to_the_cited_documents() -> None:
    item = parse_item({k: v for k, v in GOOD.items() if k != "gold_docs"})
    assert item.gold_docs == ["doc-a"]


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    item = parse_item(GOOD | {"gold_spans": [{"doc_id": "doc-a", "char_start": 3, "char_end": 9}],
                              "reference_answer": "It is deplorable.", "category": "who-said-what",
                              "filters": {"speaker": "Lavrov"}, "notes": "n"})
    path = tmp_path / "out.jsonl"
    write_eval_set([item], path)
    assert load_eval_set(path) == [item]


# -- against a store (a fake one: fast) -----------------------------------------------------
class _Doc:
    def __init__(self, text: str) -> None:
        self.text = text


class _FakeLibrary:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts
        self.store = self

    def doc_ids(self) -> list[str]:
        return sorted(self.texts)

    def document(self, doc_id: str) -> _Doc | None:
        return _Doc(self.texts[doc_id]) if doc_id in self.texts else None


TEXT = "Sergey Lavrov: We exchanged views on the deplorable\nsituation in the “OSCE”, which continues to deteriorate."


def test_validate_reports_missing_documents_and_quotes() -> None:
    lib = _FakeLibrary({"doc-a": TEXT})
    items = [parse_item(GOOD | {"gold_quotes": [{"doc_id": "doc-a", "quote": 'situation in the "OSCE"'},
                                                {"doc_id": "doc-a", "quote": "a thriving OSCE"}]}),
             parse_item({"id": "q2", "question": "?", "answerable": True, "gold_docs": ["doc-z"]})]
    problems = validate_against_store(items, lib)
    assert problems == ["q1: quote not found verbatim in doc-a: 'a thriving OSCE'",
                        "q2: gold document 'doc-z' is not in the collection"]


def test_resolve_fills_spans_that_point_at_the_quote() -> None:
    lib = _FakeLibrary({"doc-a": TEXT})
    item = parse_item(GOOD | {"gold_quotes": [{"doc_id": "doc-a", "quote": "deplorable situation"}]})
    (resolved,) = resolve_gold_spans([item], lib)
    (span,) = resolved.gold_spans
    assert TEXT[span.char_start:span.char_end] == "deplorable\nsituation"
    assert item.gold_spans == []  # the input is not changed


def test_path_hashed_ids_are_aligned_to_the_collection() -> None:
    assert doc_stem("lavrov-belarus-2023-05-17-05a8bb0d") == "lavrov-belarus-2023-05-17"
    assert doc_stem("kremlin-en-17622") == "kremlin-en-17622"
    item = parse_item({"id": "q", "question": "?", "answerable": True,
                       "gold_quotes": [{"doc_id": "speech-0123abcd", "quote": "x"}],
                       "gold_spans": [{"doc_id": "speech-0123abcd", "char_start": 0, "char_end": 1}]})
    (aligned,) = align_doc_ids([item], ["speech-99999999", "other-0123abcd"])
    assert aligned.gold_docs == ["speech-99999999"]
    assert aligned.gold_quotes[0].doc_id == aligned.gold_spans[0].doc_id == "speech-99999999"
    (ambiguous,) = align_doc_ids([item], ["speech-11111111", "speech-22222222"])
    assert ambiguous.gold_docs == ["speech-0123abcd"]


# -- the shipped statements set ---------------------------------------------------------------
@pytest.fixture(scope="module")
def statements() -> list[EvalItem]:
    return load_eval_set(STATEMENTS)


def test_statements_set_shape(statements: list[EvalItem]) -> None:
    assert len(statements) >= 80
    assert len({i.id for i in statements}) == len(statements)
    assert len({i.question.strip().lower() for i in statements}) == len(statements)
    unanswerable = [i for i in statements if not i.answerable]
    assert len(unanswerable) / len(statements) >= 0.15
    assert all(i.category == "unanswerable" for i in unanswerable)
    counts = Counter(i.category for i in statements)
    assert set(counts) == set(CATEGORIES)
    assert counts["comparison"] >= 8 and counts["needs-filter"] >= 5


def test_statements_answerable_items_have_short_gold_quotes(statements: list[EvalItem]) -> None:
    for item in statements:
        if not item.answerable:
            continue
        assert 1 <= len(item.gold_quotes) <= 3, item.id
        assert {q.doc_id for q in item.gold_quotes} == set(item.gold_docs), item.id
        assert all(len(q.quote) <= 400 for q in item.gold_quotes), item.id
        if item.category == "comparison":
            assert len(item.gold_docs) >= 2, item.id
        if item.category == "needs-filter":
            assert item.filters.as_kwargs(), item.id


def test_statements_gold_quotes_are_verbatim_in_the_stored_sample(statements: list[EvalItem], sample_library) -> None:
    assert validate_against_store(statements, sample_library) == []
    resolved = resolve_gold_spans(statements, sample_library)
    known = set(sample_library.store.doc_ids())
    for item in resolved:
        assert set(item.gold_docs) <= known, item.id
        assert len(item.gold_spans) == len(item.gold_quotes), item.id
