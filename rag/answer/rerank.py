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


RERANKERS = ("maxsim", "ce")
"""Rerankers that can be named. No cross-encoder ships in a PyPI wheel (MODELS.md); `maxsim`
(rag.answer.maxsim: best sentence by the embedding model, fused with the retrieval order) is the one
candidate built from it; `ce` (rag.answer.ce_rerank) reads the hits with the project's own relevance
model ($RAG_RELEVANCE_MODEL or the committed default). Both stay off unless measured better than
fusion alone."""


def make_reranker(name: str, embedder: "Embedder | None" = None, relevance: str | None = None) -> Reranker:
    """A reranker by name (given the loaded embedding model); the error lists the known ones."""
    if name in ("none", "off", ""):
        raise ValueError("no reranker requested")
    if name == "maxsim":
        from rag.answer.maxsim import SentenceMaxSimReranker

        if embedder is None:
            from rag.models.embedding import Embedder

            embedder = Embedder()
        return SentenceMaxSimReranker(embedder)
    if name == "ce":
        from rag.answer.ce_rerank import CrossEncoderReranker
        from rag.models.relevance import RelevanceModelError, open_relevance_model, relevance_models

        setting = relevance or next(iter(relevance_models()), None)
        if setting is None:
            raise ValueError("the ce reranker needs a relevance model: none is committed; set "
                             "$RAG_RELEVANCE_MODEL to a model.safetensors written by `make model`")
        try:
            return CrossEncoderReranker(open_relevance_model(setting).check())
        except RelevanceModelError as exc:
            raise ValueError(str(exc)) from None
    raise ValueError(f"unknown reranker {name!r}; available: {', '.join(RERANKERS)}")
