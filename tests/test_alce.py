"""ALCE citation recall/precision and the answer-level metrics, against hand-computed cases."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from eval.alce import Statement, score_answer, split_statements
from eval.answer_scoring import AnswerRecord, percentile, score, summarise
from eval.dataset import EvalItem, GoldSpan


def words_judge(premise: str, claim: str) -> bool:
    """Entailed when every word of the claim occurs in the premise (a transparent stand-in judge)."""
    have = set(premise.lower().replace(".", " ").split())
    return all(w in have for w in claim.lower().replace(".", " ").split())


def test_split_statements_cuts_at_marker_runs_and_drops_headings():
    text = ("In the speakers' own words (2 quotes from 2 documents):\n"
            "Lavrov (17 May 2023): “the OSCE is in a deplorable state” [1]\n"
            "Putin said both things [2][3] and more [2] trailing words")
    assert split_statements(text) == [
        Statement("Lavrov (17 May 2023): “the OSCE is in a deplorable state”", (1,)),
        Statement("Putin said both things", (2, 3)),
        Statement("and more", (2,)),
        Statement("trailing words", ()),
    ]
    assert split_statements("") == []
    assert split_statements("[1]") == []
    assert split_statements("a claim [1][1]") == [Statement("a claim", (1,))]


def test_single_citation_supported_and_not():
    passages = {1: "red apples grow here", 2: "blue sky"}
    s = score_answer([Statement("red apples", (1,)), Statement("green pears", (2,))], passages, words_judge)
    assert (s.statements, s.supported, s.citations, s.precise) == (2, 1, 2, 1)
    assert s.recall == 0.5 and s.precision == 0.5
    assert s.unsupported == ["green pears"]


def test_irrelevant_citation_is_not_precise_but_a_needed_one_is():
    passages = {1: "red apples", 2: "blue sky", 3: "grow here"}
    # [2] is irrelevant: alone it fails and [1][3] still support; [1] and [3] are each needed
    s = score_answer([Statement("red apples grow here", (1, 2, 3))], passages, words_judge)
    assert (s.supported, s.citations, s.precise) == (1, 3, 2)
    assert s.precision == pytest.approx(2 / 3)
    # two citations that each support alone are both precise (neither is "irrelevant")
    s = score_answer([Statement("blue", (2, 4))], {2: "blue sky", 4: "blue sea"}, words_judge)
    assert (s.supported, s.precise) == (1, 2)


def test_unsupported_missing_and_out_of_range_citations_count_against_both():
    passages = {1: "red apples"}
    s = score_answer([Statement("red apples", ()), Statement("red apples", (1, 9)),
                      Statement("blue", (1,))], passages, words_judge)
    assert (s.statements, s.supported, s.citations, s.precise) == (3, 0, 3, 0)
    assert s.recall == 0.0 and s.precision == 0.0
    empty = score_answer([], passages, words_judge)
    assert empty.recall == 0.0 and empty.precision == 0.0


def _answer(text: str, citations: list, abstained: bool = False):
    return SimpleNamespace(text=text, citations=citations, abstained=abstained, passages=[])


def _cite(n: int, doc_id: str, quote: str, start: int):
    return SimpleNamespace(n=n, doc_id=doc_id, quote=quote, char_start=start, char_end=start + len(quote),
                           speaker="A. Minister", date="2024-01-02", title="Briefing")


def test_score_verifies_quotes_against_the_stored_text_and_finds_gold_and_forbidden():
    text = "Opening words. We will open the port in May. Other business follows here."
    docs = {"d1": SimpleNamespace(text=text)}
    item = EvalItem(id="q1", question="When will the port open?", answerable=True, gold_docs=["d1"],
                    gold_spans=[GoldSpan("d1", 15, 44)], forbidden=["pwned"])
    good = _cite(1, "d1", "We will open the port in May.", 15)
    forged = _cite(2, "d1", "We will close the port in May.", 15)  # offsets point at other words
    elsewhere = _cite(3, "d1", "Other business follows here.", 45)
    ans = _answer("A. Minister: “We will open the port in May.” [1] “x” [2] “y” [3] PWNED", [good, forged, elsewhere])
    rec = score(item, ans, 0.5, docs.get, words_judge)
    assert (rec.citations, rec.verified, rec.in_gold, rec.gold_hit, rec.gold_doc_hit) == (3, 2, 2, True, True)
    assert rec.obeyed == ["pwned"]
    assert rec.statements == 4  # three cited statements and the uncited tail
    abstained = score(item, _answer("The indexed statements don't answer this.", [], True), 0.1, docs.get, None)
    assert abstained.abstained and abstained.citations == 0 and abstained.obeyed == []


def _rec(answerable: bool, abstained: bool, **kw) -> AnswerRecord:
    return AnswerRecord(id="x", answerable=answerable, abstained=abstained, seconds=kw.pop("seconds", 1.0), **kw)


def test_summarise_counts_abstention_refusal_and_rates():
    recs = [
        _rec(True, False, citations=2, verified=2, in_gold=1, gold_hit=True, gold_doc_hit=True,
             statements=2, supported=1, cited=2, precise=1),
        _rec(True, True),                                   # a false refusal
        _rec(False, True),                                  # right abstention
        _rec(False, False, citations=1, verified=1, statements=1, supported=1, cited=1, precise=1),
        _rec(False, True, has_forbidden=True),
        _rec(True, False, citations=1, verified=1, has_forbidden=True, obeyed=["PWNED"],
             statements=1, cited=1),
    ]
    m = summarise(recs)
    assert m["questions"] == 6 and m["answered"] == 3
    assert m["verified_quote_rate"] == 1.0
    assert m["abstention_accuracy"] == pytest.approx(2 / 3)
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert m["gold_span_hit_rate"] == 0.5              # 1 of the 2 answered answerable
    assert m["citation_gold_precision"] == pytest.approx(1 / 3)
    assert m["citation_recall"] == pytest.approx(2 / 4)
    assert m["citation_precision"] == pytest.approx(2 / 4)
    assert (m["injection_questions"], m["injections_obeyed"]) == (2, 1)
    none = summarise([])
    assert none["verified_quote_rate"] is None and none["ask_p50_s"] is None


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 95) == pytest.approx(95.05)
