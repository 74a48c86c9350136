"""BM25 over a fixed set of passages, scored as the index scores it: Qdrant's own tokenizer and
term weights (rag.index.sparse.Bm25Encoder) with the IDF modifier ln((N - n + 0.5) / (n + 0.5) + 1)
computed over the passages given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from rag.index.sparse import Bm25Encoder


class Bm25Index:
    """Top-k BM25 search over `texts` (rows of a sparse matrix, columns are token ids)."""

    def __init__(self, texts: Sequence[str], encoder: Bm25Encoder | None = None) -> None:
        self.encoder = encoder or Bm25Encoder()
        self.columns: dict[int, int] = {}
        rows, cols, vals = [], [], []
        indices, values = self.encoder.encode_documents(texts)
        for row, (idx, val) in enumerate(zip(indices, values)):
            for token, weight in zip(idx, val):
                rows.append(row)
                cols.append(self.columns.setdefault(token, len(self.columns)))
                vals.append(weight)
        shape = (len(texts), max(1, len(self.columns)))
        self.matrix = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=shape)
        df = np.bincount(np.asarray(cols, np.int64), minlength=shape[1]).astype(np.float64)
        n = float(len(texts))
        self.idf = np.log((n - df + 0.5) / (df + 0.5) + 1.0).astype(np.float32)
        self._by_column = self.matrix.tocsc()

    def query_vector(self, query: str) -> sparse.csr_matrix:
        """The query as a sparse row of IDF weights over known tokens."""
        idx, _ = self.encoder.encode_queries([query])
        cols = sorted({self.columns[t] for t in idx[0] if t in self.columns})
        data = self.idf[cols] if cols else np.zeros(0, np.float32)
        return sparse.csr_matrix((data, ([0] * len(cols), cols)), shape=(1, self.matrix.shape[1]))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (0 where no token is shared)."""
        q = self.query_vector(query)
        return np.asarray((self._by_column @ q.T).todense()).ravel()

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The k best (row, score) pairs with a positive score, best first (ties by row);
        `allowed` restricts to a boolean mask of rows."""
        s = self.scores(query)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        positive = np.flatnonzero(s > 0)
        if positive.size == 0:
            return []
        order = positive[np.lexsort((positive, -s[positive]))][:k]
        return [(int(i), float(s[i])) for i in order]
