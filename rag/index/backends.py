"""Open the vector index the settings ask for: embedded Qdrant Edge, or a Qdrant server by URL.

`open_index` gives what searching needs (the embedded shard as a plain `EdgeIndex`, no
llama-index); `open_vector_store` the llama-index vector store that ingest writes through.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Union

from rag.index.edge_index import EdgeIndex, edge_config
from rag.index.sparse import Bm25Encoder
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.index.edge_store import EdgeVectorStore
    from rag.index.server_store import ServerVectorStore

VectorStore = Union["EdgeVectorStore", "ServerVectorStore"]
SearchIndex = Union[EdgeIndex, "ServerVectorStore"]
"""Either answers `search(IndexQuery) -> list[Hit]`, `count()`, `unindexed()`, `optimize()`,
`flush()` and `close()`."""


def open_index(settings: Settings, dimension: int, bm25: Bm25Encoder) -> SearchIndex:
    """The index for these settings, created with the shared layout if new: the embedded shard
    as an `EdgeIndex` (no llama-index imported), a server collection as its llama-index store."""
    if settings.qdrant_url:
        return open_vector_store(settings, dimension, bm25)  # type: ignore[return-value]
    layout = settings.index_settings()
    return EdgeIndex.open(settings.edge_path, lambda: edge_config(dimension, **layout),  # type: ignore[arg-type]
                          bm25.encode_documents, bm25.encode_queries,
                          prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k)


def as_vector_store(index: SearchIndex, settings: Settings, dimension: int) -> VectorStore:
    """The llama-index vector store over an open index (the embedded shard wrapped, not reopened)."""
    if not isinstance(index, EdgeIndex):
        return index
    from rag.index.edge_store import EdgeVectorStore

    return EdgeVectorStore(settings.edge_path, dimension, index.sparse_doc_fn, index.sparse_query_fn,
                           prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k,
                           **settings.index_settings(), index=index)  # type: ignore[arg-type]


def open_vector_store(settings: Settings, dimension: int, bm25: Bm25Encoder) -> VectorStore:
    """The llama-index vector store for these settings, created with the shared layout if new."""
    if settings.qdrant_url:
        from rag.index.server_store import ServerVectorStore, connect

        client = connect(settings.qdrant_url, settings.qdrant_api_key)
        return ServerVectorStore.open(
            client, settings.collection, dimension, bm25.encode_documents, bm25.encode_queries,
            prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k,
            shard_number=settings.shard_number, replication_factor=settings.replication_factor,
            write_consistency_factor=settings.write_consistency_factor, **settings.index_settings(),
        )
    from rag.index.edge_store import EdgeVectorStore

    return EdgeVectorStore(settings.edge_path, dimension, bm25.encode_documents, bm25.encode_queries,
                           prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k,
                           **settings.index_settings())  # type: ignore[arg-type]


def drop_vector_store(store: VectorStore | SearchIndex, settings: Settings) -> None:
    """Delete the whole index (before a rebuild); the store object is closed."""
    if settings.qdrant_url:
        store.client.delete_collection(settings.collection)  # type: ignore[union-attr]
        store.close()
        return
    store.close()
    shutil.rmtree(settings.edge_path, ignore_errors=True)
