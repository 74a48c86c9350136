"""Mining training pairs from the structure of press conferences (training/), on data/sample text
put into a temporary copy of the shared corpora's layout; never reads ../shared."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from ingest.jsonl import read_jsonl_file
from ingest.structure import parse_document
from rag.index.context import passage_context
from training.bm25 import Bm25Index
from training.mining import (VAL_PERCENT, Example, add_negatives, first_question_sentence, mine,
                             passage_of, qa_examples, query_forms, read_examples, split_of, write_jsonl)
from training.sources import SourceDoc, iter_corpus, sample_ids

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def chunker(embedder):
    from rag.collection.ingestion import Ingestor

    return Ingestor(None, None, embedder).chunk  # type: ignore[arg-type]


def _docs(path: Path) -> list:
    return [parse_document(raw) for raw in read_jsonl_file(path, 50_000_000)]


def _fake_root(tmp_path: Path) -> Path:
    """data/sample's corpus files laid out as ../shared/data is, plus one QMSum-like meeting."""
    root = tmp_path / "data"
    (root / "kremlin_en").mkdir(parents=True)
    with gzip.open(root / "kremlin_en" / "kremlin_en_2013-2019.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write((SAMPLE / "kremlin" / "kremlin_transcripts.jsonl").read_text(encoding="utf-8"))
    (root / "pm_transcripts").mkdir()
    shutil.copy(SAMPLE / "pm" / "pm_transcripts.jsonl.gz", root / "pm_transcripts" / "pm_transcripts_all.jsonl.gz")
    (root / "miller_center").mkdir()
    with gzip.open(root / "miller_center" / "miller_center_speeches.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write((SAMPLE / "miller" / "miller_speeches.jsonl").read_text(encoding="utf-8"))
    qm = root / "qmsum_committee"
    (qm / "train").mkdir(parents=True)
    turns = [{"speaker": "The Chair", "content": "Welcome to the committee. We turn to the budget for schools."},
             {"speaker": "Minister Jones", "content": "The budget for schools rises by four per cent next year, "
                                                      "paid for by savings in administration across the department."},
             {"speaker": "Member Smith", "content": "I want to talk about roads in the north and the bridges there."},
             {"speaker": "Minister Jones", "content": "Three new bridges will be built in the north by 2026, "
                                                      "starting with the river crossing that floods every winter."}]
    (qm / "train" / "edu_1.json").write_text(json.dumps({"meeting_transcripts": turns}), encoding="utf-8")
    query = {"qid": "edu_1-s0", "meeting_id": "edu_1", "type": "specific",
             "query": "What did the minister say about new bridges?", "answer": "Three by 2026.",
             "relevant_text_span": [[3, 3]]}
    (qm / "queries_train.jsonl").write_text(json.dumps(query) + "\n", encoding="utf-8")
    return root


def _repo_without_sample(tmp_path: Path) -> Path:
    """A repo root whose manifest excludes nothing and which has no evaluation sets."""
    repo = tmp_path / "repo"
    (repo / "data" / "sample").mkdir(parents=True)
    (repo / "data" / "sample" / "MANIFEST.tsv").write_text("file\tdoc_id\tdate\tspeakers\ttitle\tbytes\n")
    (repo / "eval" / "datasets").mkdir(parents=True)
    return repo


def test_a_question_is_paired_with_the_answer_that_follows_it(chunker):
    doc = next(d for d in _docs(SAMPLE / "pm" / "pm_transcripts.jsonl.gz") if d.doc_id == "pmt-15830")
    chunks = chunker(doc)
    examples = qa_examples(SourceDoc("pm_transcripts", doc), chunks, "train", set())
    assert len(examples) > 10
    by_id = {f"{c.doc_id}#{c.index}": c for c in chunks}
    turns = {t.index: t for t in doc.turns}
    for ex in examples:
        positive = by_id[ex.positive]
        assert not positive.is_question and turns[positive.turn].speaker == "Kevin Rudd"
        assert ex.positive in ex.relevant and all(not by_id[r].is_question for r in ex.relevant)
        q_turn = int(ex.qid.split("#q")[1].split(":")[0])
        assert turns[q_turn].is_question
        # the answer is what follows the question, before the next question
        assert all(q_turn < by_id[r].turn for r in ex.relevant)
        nxt = next((t.index for t in doc.turns if t.index > q_turn and t.is_question), 10 ** 9)
        assert all(by_id[r].turn < nxt for r in ex.relevant)
        if ex.form == "full":
            assert ex.query == " ".join(doc.text[turns[q_turn].char_start:turns[q_turn].char_end].split())
    assert {"full", "first"} <= {e.form for e in examples}


def test_query_forms_are_distinct_and_short_forms_ask():
    text = ("Prime Minister, thanks for coming. Sorry, I am from the ABC. On the Security Council bid, "
            "how much will the campaign cost Australian taxpayers? And when will you know whether "
            "the other members of the Pacific Islands Forum support it, given the talks of last week?")
    forms = dict(query_forms(text))
    assert forms["full"] == " ".join(text.split())
    assert forms["first"] == "On the Security Council bid, how much will the campaign cost Australian taxpayers?"
    assert len(set(forms.values())) == len(forms)
    assert first_question_sentence("No question here. None at all.") is None


def test_passages_carry_the_index_context_without_the_question(chunker):
    doc = next(d for d in _docs(SAMPLE / "kremlin" / "kremlin_transcripts.jsonl") if d.doc_id == "kremlin-en-56952")
    chunk = next(c for c in chunker(doc)
                 if c.speaker == "Vladimir Putin" and not c.is_question and passage_context(doc, c).question)
    passage = passage_of(SourceDoc("kremlin_en", doc), chunk, "train")
    assert passage.text.endswith("\n\n" + chunk.text) and "Asked:" not in passage.text
    assert passage.text.startswith("Vladimir Putin (President of Russia)") and doc.date in passage.text.split("\n")[0]
    assert passage_context(doc, chunk).question  # the index's context has it; the mined passage leaves it out


def test_validation_split_holds_out_whole_documents_by_id():
    ids = [f"pmt-{n}" for n in range(4000)]
    held = [i for i in ids if split_of(i) == "val"]
    assert abs(len(held) / len(ids) - VAL_PERCENT / 100) < 0.02
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]


def test_sample_documents_are_recognised_in_every_spelling():
    ids = sample_ids(SAMPLE / "MANIFEST.tsv")
    assert {"kremlin-en-62277", "kremlin-en-56952", "pmt-15830",
            "miller-1995-11-27-address-bosnia", "miller-2019-09-25-press-conference"} <= ids


def test_mining_never_yields_a_sample_document(tmp_path, chunker):
    root = _fake_root(tmp_path)
    excluded = sample_ids(SAMPLE / "MANIFEST.tsv")
    for name in ("kremlin_en", "pm_transcripts", "miller_center"):
        assert list(iter_corpus(root, name, excluded)) == []  # every sample document is left out
    data = mine(root, ROOT, chunker, log=lambda m: None)
    assert {e.doc_id for e in data.examples} == {"qmsum-edu_1"}  # only the non-sample meeting is left


def test_mining_is_deterministic_and_negatives_are_never_the_answer(tmp_path, chunker):
    root, repo = _fake_root(tmp_path), _repo_without_sample(tmp_path)
    first = mine(root, repo, chunker, log=lambda m: None)
    second = mine(root, repo, chunker, log=lambda m: None)
    digests = [write_jsonl(tmp_path / f"ex{i}.jsonl", d.examples) for i, d in enumerate((first, second))]
    assert digests[0] == digests[1]
    assert len(first.examples) > 100
    examples = read_examples(tmp_path / "ex0.jsonl")
    split_docs = {p.pid: (p.split, p.doc_id) for p in first.passages}
    for ex in examples:
        assert not set(ex.neg_same + ex.neg_other) & set(ex.relevant)
        assert all(split_docs[n] == (ex.split, ex.doc_id) for n in ex.neg_same)
        assert all(split_docs[n][0] == ex.split and split_docs[n][1] != ex.doc_id for n in ex.neg_other)
    qm = [e for e in examples if e.form == "qmsum"]
    assert len(qm) == 1 and "bridges" in next(p.text for p in first.passages if p.pid == qm[0].positive)


def test_bm25_weights_terms_by_rarity():
    index = Bm25Index(["budget budget schools", "budget roads", "budget bridges in the north", "nothing"])
    ranked = index.search("new bridges and the budget", 4)
    assert ranked[0][0] == 2  # the rare term wins
    assert {r for r, _ in ranked} == {0, 1, 2}  # "nothing" shares no term
    assert index.idf[index.columns[next(iter(index.encoder.encode_queries(["bridges"])[0][0]))]] > \
        index.idf[index.columns[next(iter(index.encoder.encode_queries(["budget"])[0][0]))]]


def test_negatives_skip_repeated_answers():
    from training.mining import Passage

    passages = [Passage("a#0", "a", "pm", "train", 1, "the budget rises by four per cent for schools next year"),
                Passage("b#0", "b", "pm", "train", 1, "the budget rises by four per cent for schools next year indeed"),
                Passage("c#0", "c", "pm", "train", 1, "schools budget is a matter for the states and territories")]
    ex = Example("a#q0:full", "train", "pm", "a", "full", "what happens to the schools budget", "a#0", ["a#0"])
    add_negatives([ex], passages)
    assert ex.neg_other == ["c#0"]  # b#0 repeats the answer word for word: not a negative
