"""A reranker from the project's relevance model (rag.models.relevance, a cross-encoder trained on
press-conference questions and the answers that follow them): each of the top `depth` hits is read
with its context header, as the index holds it, and the model's order is fused with the retrieval
order by reciprocal rank fusion. Whether it helps is measured by `rag eval --reranker ce`."""

from __future__ import annotations

from typing import Sequence

from rag.answer.extractive import RelevanceScorer
from rag.answer.rerank_fusion import rerank_head
from rag.index.context import PassageContext, contextualise
from rag.index.nodes import Hit


def hit_text(hit: Hit) -> str:
    """The hit as the relevance model was trained to read passages: context header, then the text."""
    ctx = PassageContext(title=hit.title or None, speaker=None if hit.is_question else hit.speaker or None,
                         role=None if hit.is_question else hit.role or None, date=hit.date or None,
                         place=hit.place or None)
    return contextualise(hit.text, ctx)


class CrossEncoderReranker:
    """Reorders the top `depth` hits; hits below `depth` keep their order after them."""

    name = "ce"

    def __init__(self, model: RelevanceScorer, depth: int = 20, rrf_k: int = 60, weight: float = 1.0) -> None:
        self.model, self.depth, self.rrf_k, self.weight = model, depth, rrf_k, weight

    def scores(self, query: str, hits: Sequence[Hit]) -> list[float]:
        """The model's logit for each hit."""
        return self.model.score(query, [hit_text(h) for h in hits])

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The top `depth` hits in fused order (score = the fused RRF score), then the rest."""
        return rerank_head(hits, self.depth, lambda head: self.scores(query, head), self.rrf_k, self.weight)
