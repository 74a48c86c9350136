"""The rerank stage: pluggable, off by default until a model measures better than fusion alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.index.nodes import Hit

if TYPE_CHECKING:
    from rag.models.embedding import Embedder


@runtime_checkable
class Reranker(Protocol):
    """Reorders the top `depth` fused hits for a query."""

    depth: int

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """Hits in the new order, scores replaced by the reranker's."""
        ...


RERANKERS = ("maxsim",)
"""Rerankers that can be named. No cross-encoder ships in a PyPI wheel (MODELS.md); `maxsim`
(rag.answer.maxsim: best sentence by the embedding model, fused with the retrieval order) is the one
candidate, and it stays off unless measured better than fusion alone."""


def make_reranker(name: str, embedder: "Embedder | None" = None) -> Reranker:
    """A reranker by name (given the loaded embedding model); the error lists the known ones."""
    if name in ("none", "off", ""):
        raise ValueError("no reranker requested")
    if name == "maxsim":
        from rag.answer.maxsim import SentenceMaxSimReranker

        if embedder is None:
            from rag.models.embedding import Embedder

            embedder = Embedder()
        return SentenceMaxSimReranker(embedder)
    raise ValueError(f"unknown reranker {name!r}; available: {', '.join(RERANKERS)}")
