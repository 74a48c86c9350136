"""Adaptive fusion (rag.index.fusion): BM25 votes less in a hybrid search when its best passage
holds few of the query's terms, as for a question worded otherwise than the source."""

from __future__ import annotations

import pytest

from rag.index.fusion import MIN_WEIGHT, POWER, sparse_weight, term_coverage
from rag.index.index_query import IndexQuery
from rag.index.nodes import Hit
from rag.index.sparse import Bm25Encoder


def _hit(text: str, speaker: str = "Sergey Lavrov", title: str = "Press conference") -> Hit:
    return Hit(doc_id="d", title=title, speaker=speaker, date="2023-05-17", text=text, score=1.0,
               char_start=0, char_end=len(text), is_question=False, turn=0, chunk=0, source="", source_url="",
               place="", page=None, point_id="p")


def test_coverage_counts_the_query_terms_the_passage_holds_stemmed():
    bm25 = Bm25Encoder()
    hit = _hit("The grain corridors were extended for another four months.")
    assert term_coverage(bm25, "grain corridor extension", hit) == pytest.approx(2 / 3)
    assert term_coverage(bm25, "Lavrov on grain", hit) == 1.0  # the speaker counts too
    assert term_coverage(bm25, "What did Lavrov say about grain?", hit) == pytest.approx(2 / 3)  # "say" is a term
    assert term_coverage(bm25, "Black Sea food deal", hit) == 0.0
    assert term_coverage(bm25, "what is it?", hit) == 0.0  # stopwords only: no terms


def test_the_weight_falls_with_the_coverage_and_never_reaches_zero():
    assert sparse_weight(1.0) == 1.0
    assert sparse_weight(0.5) == pytest.approx(0.5 ** POWER)
    assert sparse_weight(0.0) == MIN_WEIGHT > 0
    weights = [sparse_weight(c / 10) for c in range(11)]
    assert weights == sorted(weights)


def test_a_weight_of_zero_or_less_is_refused():
    with pytest.raises(ValueError, match="BM25 weight must be above 0"):
        IndexQuery(text="x", dense=[0.0], k=1, prefetch_k=1, sparse_weight=0.0)


def test_the_library_weighs_bm25_by_its_coverage_and_fixed_turns_it_off(sample_library, monkeypatch):
    """On the sample: a question in the source's words keeps plain RRF, one in other words gets
    BM25 at a small weight (that both engines fuse by it: tests/test_vector_stores.py)."""
    from dataclasses import replace

    lib = sample_library
    seen: list[float] = []
    search = lib.index.search
    monkeypatch.setattr(lib.index, "search", lambda q: (seen.append(q.sparse_weight), search(q))[1])
    lib.search("SCO Council of Foreign Ministers in Goa", k=5)
    lib.search("Where did the Shanghai bloc's top diplomats convene, as Lavrov told his Belarusian counterpart?", k=5)
    assert seen[-1] < 0.1 and 1.0 in seen[:-1]
    monkeypatch.setattr(lib, "settings", replace(lib.settings, fusion="fixed"))
    seen.clear()
    lib.search("Where did the Shanghai bloc's top diplomats convene, as Lavrov told his Belarusian counterpart?", k=5)
    assert seen == [1.0]
