"""The embedding-only reranker: a passage whose one sentence answers the query moves up."""

from __future__ import annotations

from rag.answer.maxsim import SentenceMaxSimReranker
from rag.answer.rerank import make_reranker
from rag.index.nodes import Hit

import pytest


def _hit(i: int, text: str) -> Hit:
    return Hit(doc_id=f"d{i}", title="", speaker="", date="", text=text, score=1.0 / (i + 1),
               char_start=0, char_end=len(text), is_question=False, turn=0, chunk=0, source="",
               source_url="", place="", page=None, point_id=f"p{i}")


def test_best_sentence_moves_a_passage_up_and_the_tail_keeps_its_order(embedder):
    filler = "The committee discussed the agenda. Members thanked the chair for the meeting."
    hits = [_hit(i, filler + f" Item {i} was deferred.") for i in range(6)]
    hits.append(_hit(6, "The weather was mild. Fishing quotas for cod were cut by a fifth this year. "
                        "Lunch followed."))
    hits += [_hit(7, "unrelated tail passage"), _hit(8, "another tail passage")]
    rr = SentenceMaxSimReranker(embedder, depth=7, rrf_k=1)
    out = rr.rerank("How much were cod fishing quotas cut?", hits)
    assert sorted(h.point_id for h in out) == sorted(h.point_id for h in hits)  # nothing lost or doubled
    assert out.index(next(h for h in out if h.point_id == "p6")) < 3
    assert [h.point_id for h in out[7:]] == ["p7", "p8"]
    sims = rr.best_sentence_scores("How much were cod fishing quotas cut?", hits[:7])
    assert max(range(7), key=lambda i: sims[i]) == 6
    assert rr.rerank("anything", hits[:1]) == hits[:1]


def test_unknown_reranker_names_the_known_ones(embedder):
    assert make_reranker("maxsim", embedder).name == "maxsim"
    with pytest.raises(ValueError, match="available: maxsim"):
        make_reranker("cross-encoder", embedder)


def test_vector_cache_is_lru_and_shared_per_embedder(embedder):
    from rag.answer.vector_cache import VectorCache, shared_cache

    cache = VectorCache(max_size=2)
    assert cache.missing(["a", "b", "a"]) == ["a", "b"]
    cache.put(["a", "b"], [[1.0], [2.0]])
    cache.get("a")                      # "b" is now the least recently used
    cache.put(["c"], [[3.0]])
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    assert cache.missing(["a", "b"]) == ["b"]
    assert shared_cache(embedder) is shared_cache(embedder)
    assert SentenceMaxSimReranker(embedder)._cache is shared_cache(embedder)
