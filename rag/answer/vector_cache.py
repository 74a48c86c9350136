"""Sentence vectors kept between questions, keyed by sentence text (so a re-ingested document can
never get a stale vector), least recently used dropped first. One cache per embedding model,
shared by the extractive answerer and the maxsim reranker."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Sequence

import numpy as np

MAX_VECTORS = 50_000
_ATTR = "_sentence_vector_cache"


class VectorCache:
    """text -> vector, at most `max_size` of them (LRU)."""

    def __init__(self, max_size: int = MAX_VECTORS) -> None:
        self.max_size = max_size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, text: object) -> bool:
        return text in self._vectors

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The distinct texts not cached yet, in first-seen order (what to embed)."""
        return list(dict.fromkeys(t for t in texts if t not in self._vectors))

    def put(self, texts: Sequence[str], vectors: Iterable[Any]) -> None:
        """Store freshly embedded vectors, then drop the oldest beyond `max_size`."""
        for text, vec in zip(texts, vectors):
            self._vectors[text] = np.asarray(vec, dtype=np.float32)
        while len(self._vectors) > self.max_size:
            self._vectors.popitem(last=False)

    def get(self, text: str) -> np.ndarray:
        """The vector of a cached text (marks it recently used)."""
        self._vectors.move_to_end(text)
        return self._vectors[text]


def shared_cache(embedder: Any) -> VectorCache:
    """The cache that lives with this embedder object (made on first use, gone with it)."""
    cache = getattr(embedder, _ATTR, None)
    if cache is None:
        cache = VectorCache()
        setattr(embedder, _ATTR, cache)
    return cache
