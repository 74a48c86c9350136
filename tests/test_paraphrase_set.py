"""The shipped paraphrase set: its questions are answerable over data/sample, its gold quotes are
verbatim, and no question shares a BM25 term with its gold evidence (that is what makes it a
paraphrase set: BM25 alone cannot find the answer)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.dataset import EvalItem, load_eval_set, resolve_gold_spans, validate_against_store
from rag.index.sparse import Bm25Encoder

DATASETS = Path(__file__).resolve().parent.parent / "eval" / "datasets"
PARAPHRASE = DATASETS / "paraphrase.jsonl"
STATEMENTS = DATASETS / "statements.jsonl"
SAMPLE_FOLDERS = {"kremlin", "pm", "miller", "seed", "html", "pdf"}


@pytest.fixture(scope="module")
def items() -> list[EvalItem]:
    return load_eval_set(PARAPHRASE)


@pytest.fixture(scope="module")
def terms():
    """BM25 terms of a text as the index sees them (Qdrant's tokenizer: stemming, stopwords)."""
    encoder = Bm25Encoder()

    def encode(text: str) -> set[int]:
        (indices,), _ = encoder.encode_queries([text])
        return set(indices)

    return encode


def test_the_term_check_sees_shared_words(terms) -> None:
    # the check below is only meaningful if shared words (and their inflections) are detected
    assert terms("What did Lavrov say about Minsk?") & terms("Sergey Lavrov spoke in Minsk.")
    assert terms("the Russians") == terms("the Russian")
    assert not terms("the Belarusian capital") & terms("Minsk")
    assert not terms("the and of a") and terms("Goa")


def test_shape_and_counts(items: list[EvalItem]) -> None:
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    assert len(answerable) >= 60 and len(unanswerable) >= 15
    assert [i.id for i in items] == [f"para-{n:03d}" for n in range(1, len(items) + 1)]
    assert len({i.question.strip().lower() for i in items}) == len(items)
    assert all(i.notes and i.category for i in items), "every question documents its trick"
    assert all(i.category == "unanswerable" for i in unanswerable)
    kinds = Counter(i.category for i in answerable)
    assert len(kinds) >= 6 and "unanswerable" not in kinds, kinds
    for item in answerable:
        assert 1 <= len(item.gold_quotes) <= 3, item.id
        assert {q.doc_id for q in item.gold_quotes} == set(item.gold_docs), item.id
        assert all(len(q.quote) <= 400 for q in item.gold_quotes), item.id


def test_no_question_of_the_statements_set_is_reused(items: list[EvalItem]) -> None:
    def words(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.lower()))

    statements = {words(json.loads(line)["question"])
                  for line in STATEMENTS.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not [i.id for i in items if words(i.question) in statements]


def test_gold_quotes_are_verbatim_and_resolve_to_spans(items: list[EvalItem], sample_library) -> None:
    assert validate_against_store(items, sample_library) == []
    resolved = resolve_gold_spans(items, sample_library)
    for item in resolved:
        assert len(item.gold_spans) == len(item.gold_quotes), item.id
        for span in item.gold_spans:
            text = sample_library.document(span.doc_id).text
            assert 0 <= span.char_start < span.char_end <= len(text), item.id


def test_answerable_questions_share_no_bm25_term_with_their_gold(items: list[EvalItem], sample_library,
                                                                 terms) -> None:
    shared: dict[str, list[str]] = {}
    for item in resolve_gold_spans(items, sample_library):
        if not item.answerable:
            continue
        question = terms(item.question)
        assert question, item.id
        # the quote as written and the stored text it resolves to (quote marks, dashes, line breaks)
        texts = [q.quote for q in item.gold_quotes] + [
            sample_library.document(s.doc_id).text[s.char_start:s.char_end] for s in item.gold_spans]
        overlapping = [t for t in texts if question & terms(t)]
        if overlapping:
            shared[item.id] = overlapping
    assert shared == {}


def test_gold_evidence_spans_the_whole_sample(items: list[EvalItem], sample_library, sample_dir) -> None:
    folders: Counter[str] = Counter()
    for item in resolve_gold_spans(items, sample_library):
        for doc_id in item.gold_docs:
            path = Path(sample_library.document(doc_id).source_path)
            folders[path.relative_to(sample_dir.resolve()).parts[0]] += 1
    assert set(folders) == SAMPLE_FOLDERS, folders
