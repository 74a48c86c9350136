"""One search against the index in the project's own terms, and its llama-index equivalent.

`IndexQuery` is what `Library.search` asks of either backend: the embedded index answers it
directly (rag.index.edge_index, no llama-index), the server store through llama-index's
`VectorStoreQuery` (`to_vector_store_query`); the llama-index Edge adapter turns a
`VectorStoreQuery` back into one (`mode_of` maps its mode), so both reach the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.index.filters import SearchFilters

if TYPE_CHECKING:
    from llama_index.core.vector_stores.types import VectorStoreQuery

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
# our mode -> llama-index VectorStoreQueryMode value
_LLAMA_MODES = {"hybrid": "hybrid", "dense": "default", "bm25": "sparse"}


@dataclass
class IndexQuery:
    """Dense, BM25 or hybrid (both prefetched `prefetch_k` deep, fused by RRF in Qdrant) search for
    the `k` best points; `dense` is the query vector (None for BM25 alone), `text` the query text
    the BM25 vector is made from."""

    text: str
    dense: list[float] | None
    k: int
    prefetch_k: int
    mode: Mode = "hybrid"
    filters: SearchFilters | None = None
    sparse_weight: float = 1.0  # BM25's RRF weight in a hybrid search; the dense one is 1 (rag.index.fusion)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown search mode {self.mode!r}; use one of: {', '.join(MODES)}")
        if self.mode != "bm25" and self.dense is None:
            raise ValueError(f"a {self.mode} search needs a query vector")
        if not self.sparse_weight > 0:
            raise ValueError(f"the BM25 weight must be above 0, not {self.sparse_weight}")


def to_vector_store_query(query: IndexQuery) -> "VectorStoreQuery":
    """The llama-index query a llama-index vector store answers alike."""
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    return VectorStoreQuery(
        query_embedding=query.dense, query_str=query.text, similarity_top_k=query.k,
        sparse_top_k=query.prefetch_k, mode=VectorStoreQueryMode(_LLAMA_MODES[query.mode]),
        # llama-index's alpha is the dense share of a hybrid fusion: 1 / (1 + BM25's weight)
        alpha=1.0 / (1.0 + query.sparse_weight),
        filters=query.filters.to_metadata_filters() if query.filters else None,
    )


def sparse_weight_of(alpha: float | None) -> float:
    """BM25's RRF weight from a llama-index query's `alpha` (the dense share; None: equal weights)."""
    return 1.0 if alpha is None else round((1.0 - alpha) / alpha, 6)


def mode_of(llama_mode: str) -> Mode:
    """Our mode for a llama-index VectorStoreQueryMode: sparse is BM25, hybrid is hybrid, every
    other mode a dense search (as the Edge store always treated them)."""
    if llama_mode == "sparse":
        return "bm25"
    return "hybrid" if llama_mode == "hybrid" else "dense"
