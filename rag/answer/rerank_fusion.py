"""What every reranker does with its scores: the top hits reordered by reciprocal rank fusion of
their retrieval order and the order of the reranker's scores, the rest kept after them."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from rag.index.nodes import Hit


def rerank_head(hits: list[Hit], depth: int, scores: Callable[[list[Hit]], list[float]], rrf_k: int = 60,
                weight: float = 1.0) -> list[Hit]:
    """The top `depth` hits in fused order (each hit's score replaced by its fused RRF score, the
    reranker's order counting `weight` times), then the rest in their order; `scores` is asked
    only for the top hits, and not at all when there are fewer than two."""
    head, tail = list(hits[:depth]), list(hits[depth:])
    if len(head) < 2:
        return list(hits)
    values = scores(head)
    by_score = sorted(range(len(head)), key=lambda i: -values[i])
    fused = {i: 1.0 / (rrf_k + i + 1) for i in range(len(head))}
    for rank, i in enumerate(by_score):
        fused[i] += weight / (rrf_k + rank + 1)
    order = sorted(fused, key=lambda i: -fused[i])
    return [replace(head[i], score=fused[i]) for i in order] + tail
