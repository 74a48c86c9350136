"""Ranking metrics against numbers worked out by hand (BEIR / pytrec_eval definitions)."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    dedupe,
    evaluate_run,
    hit_rate_at_k,
    mean,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)


def test_perfect_ranking_scores_one():
    qrels = {"a": 1, "b": 1}
    ranked = ["a", "b", "x", "y"]
    assert ndcg_at_k(ranked, qrels, 10) == pytest.approx(1.0)
    assert recall_at_k(ranked, qrels, 2) == pytest.approx(1.0)
    assert mrr_at_k(ranked, qrels, 10) == pytest.approx(1.0)
    assert precision_at_k(ranked, qrels, 2) == pytest.approx(1.0)
    assert hit_rate_at_k(ranked, qrels, 1) == 1.0


def test_single_relevant_at_rank_three():
    qrels = {"r": 1}
    ranked = ["x", "y", "r", "z"]
    # DCG = 1/log2(3+1) = 1/2; IDCG = 1/log2(2) = 1  -> nDCG = 0.5
    assert ndcg_at_k(ranked, qrels, 10) == pytest.approx(0.5)
    assert mrr_at_k(ranked, qrels, 10) == pytest.approx(1 / 3)
    # cut before rank 3: nothing found
    assert ndcg_at_k(ranked, qrels, 2) == 0.0
    assert mrr_at_k(ranked, qrels, 2) == 0.0
    assert recall_at_k(ranked, qrels, 2) == 0.0
    assert hit_rate_at_k(ranked, qrels, 2) == 0.0
    assert recall_at_k(ranked, qrels, 3) == 1.0
    assert hit_rate_at_k(ranked, qrels, 3) == 1.0
    # P@3 = 1/3, P@10 = 1/10 (pytrec_eval divides by k, not by the list length)
    assert precision_at_k(ranked, qrels, 3) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, qrels, 10) == pytest.approx(0.1)


def test_graded_relevance_uses_linear_gain():
    qrels = {"a": 2, "b": 1, "c": 0}
    # ranked b, a: DCG = 1/log2(2) + 2/log2(3) = 1 + 1.2618595 = 2.2618595
    # ideal a, b:  IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.6309298 = 2.6309298
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert expected == pytest.approx(0.859719, abs=1e-6)
    assert ndcg_at_k(["b", "a"], qrels, 10) == pytest.approx(expected)
    # a grade-0 judgement is not relevant: recall counts a and b only
    assert recall_at_k(["c", "a"], qrels, 10) == pytest.approx(0.5)
    assert mrr_at_k(["c", "a"], qrels, 10) == pytest.approx(0.5)
    # nDCG@1 with b first: DCG = 1, IDCG@1 = 2 -> 0.5
    assert ndcg_at_k(["b", "a"], qrels, 1) == pytest.approx(0.5)


def test_ideal_is_cut_at_k_too():
    # three relevant docs, k = 2, the top two are relevant -> nDCG@2 = 1 even though one is missed
    qrels = {"a": 1, "b": 1, "c": 1}
    assert ndcg_at_k(["a", "b", "x"], qrels, 2) == pytest.approx(1.0)
    # recall@2 = 2/3
    assert recall_at_k(["a", "b", "x"], qrels, 2) == pytest.approx(2 / 3)


def test_empty_results_score_zero():
    qrels = {"a": 1}
    for fn in (ndcg_at_k, recall_at_k, mrr_at_k, precision_at_k, hit_rate_at_k):
        assert fn([], qrels, 10) == 0.0


def test_duplicates_count_once_at_first_position():
    qrels = {"a": 1, "b": 1}
    ranked = ["a", "a", "a", "b"]   # deduped: a, b
    assert dedupe(ranked) == ["a", "b"]
    assert ndcg_at_k(ranked, qrels, 2) == pytest.approx(1.0)
    assert recall_at_k(ranked, qrels, 2) == pytest.approx(1.0)
    assert precision_at_k(ranked, qrels, 2) == pytest.approx(1.0)
    # a repeated relevant doc cannot push recall or precision above its single credit
    assert recall_at_k(["a", "a"], qrels, 2) == pytest.approx(0.5)
    assert precision_at_k(["a", "a"], qrels, 2) == pytest.approx(0.5)
    # x, x, r -> x, r: r at rank 2, MRR = 1/2, nDCG = 1/log2(3) = 0.6309298
    assert mrr_at_k(["x", "x", "r"], {"r": 1}, 10) == pytest.approx(0.5)
    assert ndcg_at_k(["x", "x", "r"], {"r": 1}, 10) == pytest.approx(1 / math.log2(3))


def test_k_larger_than_list():
    qrels = {"a": 1, "b": 1}
    ranked = ["x", "a"]
    # DCG = 1/log2(3) = 0.6309298; IDCG = 1 + 1/log2(3) = 1.6309298 -> 0.3868528
    assert ndcg_at_k(ranked, qrels, 100) == pytest.approx(0.6309298 / 1.6309298, abs=1e-6)
    assert recall_at_k(ranked, qrels, 100) == pytest.approx(0.5)
    assert mrr_at_k(ranked, qrels, 100) == pytest.approx(0.5)
    assert precision_at_k(ranked, qrels, 100) == pytest.approx(0.01)


def test_no_relevant_documents_scores_zero():
    for qrels in ({}, {"a": 0}):
        for fn in (ndcg_at_k, recall_at_k, mrr_at_k, precision_at_k, hit_rate_at_k):
            assert fn(["a", "b"], qrels, 10) == 0.0


def test_k_below_one_scores_zero():
    assert ndcg_at_k(["a"], {"a": 1}, 0) == 0.0
    assert precision_at_k(["a"], {"a": 1}, 0) == 0.0


def test_mean_of_nothing_is_zero():
    assert mean([]) == 0.0
    assert mean(iter([])) == 0.0
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)


def test_evaluate_run_averages_over_judged_queries_only():
    qrels = {
        "q1": {"a": 1},           # found at rank 1
        "q2": {"r": 1},           # found at rank 3
        "q3": {"z": 0},           # no relevant doc: skipped, as BEIR does
        "q4": {"m": 1},           # judged but missing from the run: counts as all zeros
    }
    run = {"q1": ["a", "b"], "q2": ["x", "y", "r"], "q3": ["z"], "q5": ["a"]}
    scores = evaluate_run(run, qrels, ks=(1, 10))
    assert scores["queries"] == 3
    # nDCG@10: (1 + 0.5 + 0) / 3 = 0.5
    assert scores["ndcg@10"] == pytest.approx(0.5)
    # MRR@10: (1 + 1/3 + 0) / 3 = 4/9
    assert scores["mrr@10"] == pytest.approx(4 / 9)
    # recall@1: (1 + 0 + 0) / 3
    assert scores["recall@1"] == pytest.approx(1 / 3)
    assert scores["hit_rate@10"] == pytest.approx(2 / 3)
    assert scores["precision@1"] == pytest.approx(1 / 3)
    assert {"ndcg@1", "recall@10", "mrr@1", "precision@10", "hit_rate@1"} <= set(scores)


def test_evaluate_run_with_no_judged_queries_is_zero():
    scores = evaluate_run({"q": ["a"]}, {}, ks=(10,))
    assert scores["ndcg@10"] == 0.0
    assert scores["queries"] == 0


# -- BEIR loading (eval/beir.py): the pure file readers, no model ---------------------------------

def test_load_beir_and_write_corpus(tmp_path):
    import gzip
    import json

    from eval.beir import load_beir, write_corpus_jsonl

    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "d1", "title": "A title.", "text": "Body one."}) + "\n")
        f.write(json.dumps({"_id": "d2", "title": "", "text": "Body two."}) + "\n")
    (tmp_path / "queries_train.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "first?"}) + "\n" + json.dumps({"_id": "q2", "text": "unjudged"}) + "\n")
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n")

    corpus, queries, qrels = load_beir(tmp_path, "train")
    assert corpus.name == "corpus.jsonl.gz"
    assert queries == {"q1": "first?"}          # queries without qrels are dropped
    assert qrels == {"q1": {"d1": 1, "d2": 2}}

    out = tmp_path / "out.jsonl"
    assert write_corpus_jsonl(corpus, out) == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0] == {"id": "d1", "title": "A title.", "text": "A title.\n\nBody one."}
    assert rows[1]["text"] == "Body two."
    write_corpus_jsonl(corpus, out, separator=" ")
    assert json.loads(out.read_text().splitlines()[0])["text"] == "A title. Body one."
