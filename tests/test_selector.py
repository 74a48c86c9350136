"""The LLM as a selector: it answers with numbers of candidate sentences, so what is shown is the
candidates' own verbatim text, verified like every quote; NONE abstains; stray numbers are ignored."""

from __future__ import annotations

import re

import pytest

from fake_llm_server import FakeLLMServer
from rag.answer.selector import parse_selection


def test_parse_selection() -> None:
    assert parse_selection("2, 5", 6) == [2, 5]
    assert parse_selection("NONE", 6) == [] and parse_selection("none of them", 6) == []
    assert parse_selection("Sentences 99 and 1 answer it, and 1 again.", 6) == [1]
    assert parse_selection("1, 2, 3, 4, 5", 6) == [1, 2, 3]
    assert parse_selection("", 6) == []


def _listed(request: dict) -> dict[int, str]:
    user = request["messages"][-1]["content"]
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] \([^)]*\) (.*)$", user, re.M)}


@pytest.mark.parametrize("behaviour", ["select_second", "select_junk"])
def test_the_picked_sentence_is_quoted_verbatim(sample_library, behaviour) -> None:
    with FakeLLMServer(behaviour) as server:
        answer = sample_library.ask("What did Lavrov say about the OSCE?", answerer="llm", llm_mode="select",
                                    llm_url=server.url, llm_model="fake")
        listed = _listed(server.requests[-1])
    assert answer.answerer == "llm-select" and not answer.abstained and answer.citations
    picked = listed[2 if behaviour == "select_second" else 1]
    assert any(picked in " ".join(c.quote.split()) for c in answer.citations)
    for c in answer.citations:
        assert sample_library.document(c.doc_id).text[c.char_start:c.char_end] == c.quote


def test_none_abstains(sample_library) -> None:
    with FakeLLMServer("select_none") as server:
        answer = sample_library.ask("What did Lavrov say about the OSCE?", answerer="llm", llm_mode="select",
                                    llm_url=server.url, llm_model="fake")
    assert answer.abstained and not answer.citations


def test_the_model_is_not_asked_when_the_evidence_is_below_the_threshold(sample_library) -> None:
    """Whether to answer is the extractive answerer's calibrated call: a question the sample does
    not answer abstains without a request, though the fake model would pick a sentence."""
    question = "What did the Prime Minister of New Zealand say about dairy tariffs in 1975?"
    extractive = sample_library.ask(question)
    assert extractive.abstained
    with FakeLLMServer("select_second") as server:
        answer = sample_library.ask(question, answerer="llm", llm_mode="select", llm_url=server.url, llm_model="fake")
        asked = len(server.requests)
    assert answer.abstained and not answer.citations and asked == 0
    assert "was not asked" in " ".join(answer.notes)
