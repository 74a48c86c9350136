"""The rerank stage: pluggable, off by default until a model measures better than fusion alone."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from rag.nodes import Hit


@runtime_checkable
class Reranker(Protocol):
    """Reorders the top `depth` fused hits for a query."""

    depth: int

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """Hits in the new order, scores replaced by the reranker's."""
        ...


RERANKERS: dict[str, type] = {}


def make_reranker(name: str) -> Reranker:
    """A reranker by name; the error lists the available ones."""
    if name in ("none", "off", ""):
        raise ValueError("no reranker requested")
    if name not in RERANKERS:
        available = ", ".join(sorted(RERANKERS)) or "none are installed"
        raise ValueError(f"unknown reranker {name!r}; available: {available}")
    return RERANKERS[name]()
