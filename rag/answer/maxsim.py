"""A reranker built from the embedding model alone: a passage's best sentence against the query.

Fused hybrid retrieval scores whole chunks; a question about one sentence can lose to a chunk
that is about the topic in general. `SentenceMaxSimReranker` embeds each sentence of the top
`depth` hits (in the embedder's shared sentence-vector cache), scores a hit by the cosine of its best sentence to the query, and
fuses that order with the retrieval order by reciprocal rank fusion. No second model: it runs
wherever search runs. Whether it helps is measured by `rag eval --reranker maxsim` (off by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ingest.sentences import split_sentences
from rag.answer.rerank_fusion import rerank_head
from rag.answer.vector_cache import shared_cache
from rag.index.nodes import Hit

if TYPE_CHECKING:
    from rag.models.embedding import Embedder


class SentenceMaxSimReranker:
    """Reorders the top `depth` hits; hits below `depth` keep their order after them."""

    name = "maxsim"

    def __init__(self, embedder: "Embedder", depth: int = 30, rrf_k: int = 60) -> None:
        self.embedder = embedder
        self.depth = depth
        self.rrf_k = rrf_k
        self._cache = shared_cache(embedder)  # the answerer's sentence vectors, reused

    def _vectors(self, texts: list[str]) -> np.ndarray:
        missing = self._cache.missing(texts)
        if missing:
            self._cache.put(missing, self.embedder.embed_queries(missing))
        return np.stack([self._cache.get(t) for t in texts])

    def best_sentence_scores(self, query: str, hits: list[Hit]) -> list[float]:
        """Per hit, the cosine of its most similar sentence to the query."""
        parts = [[hit.text[s:e] for s, e in split_sentences(hit.text)] or [hit.text] for hit in hits]
        flat = [p for ps in parts for p in ps]
        if not flat:
            return []
        q = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        sims = self._vectors(flat) @ q
        out, i = [], 0
        for ps in parts:
            out.append(float(sims[i:i + len(ps)].max()))
            i += len(ps)
        return out

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        """The top `depth` hits in fused order (score = the fused RRF score), then the rest."""
        return rerank_head(hits, self.depth, lambda head: self.best_sentence_scores(query, head), self.rrf_k)
