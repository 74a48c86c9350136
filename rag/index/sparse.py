"""BM25 sparse vectors from Qdrant's own tokenizer (stemming, stopwords); IDF is applied by Qdrant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence


@dataclass
class Bm25Encoder:
    """Term-frequency vectors for documents and unit-weight vectors for queries.

    The collection's sparse vector carries Qdrant's IDF modifier, so the engine supplies the
    inverse document frequency at query time, on the edge and on a server alike.
    """

    avg_len: float = 120.0
    language: str = "english"
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        """The qdrant_edge Bm25 model (built on first use)."""
        if self._model is None:
            import qdrant_edge

            self._model = qdrant_edge.Bm25(
                qdrant_edge.Bm25Config(avg_len=self.avg_len, language=self.language)
            )
        return self._model

    def encode_documents(self, texts: Sequence[str]) -> tuple[list[list[int]], list[list[float]]]:
        """Indices and values per text, in the shape llama-index's Qdrant store expects."""
        return _lists(self.model.embed_document(text) for text in texts)

    def encode_queries(self, texts: Sequence[str]) -> tuple[list[list[int]], list[list[float]]]:
        """Indices and unit values per query text."""
        return _lists(self.model.embed_query(text) for text in texts)

    def query_terms(self, text: str) -> set[int]:
        """The term ids of a query (stemmed, stopwords removed)."""
        return set(self.model.embed_query(text).indices)

    def document_terms(self, text: str) -> set[int]:
        """The term ids of a document text (as `encode_documents` counts them)."""
        return set(self.model.embed_document(text).indices)


def _lists(vectors: Iterable[Any]) -> tuple[list[list[int]], list[list[float]]]:
    """Sparse vectors as parallel lists of indices and float values."""
    indices: list[list[int]] = []
    values: list[list[float]] = []
    for vec in vectors:
        indices.append(list(vec.indices))
        values.append([float(v) for v in vec.values])
    return indices, values
