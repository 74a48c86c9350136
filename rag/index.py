"""Open the vector index the settings ask for: embedded Qdrant Edge, or a Qdrant server by URL."""

from __future__ import annotations

import shutil
from typing import Union

from rag.edge_store import EdgeVectorStore
from rag.server_store import ServerVectorStore, connect
from rag.settings import Settings
from rag.sparse import Bm25Encoder

VectorStore = Union[EdgeVectorStore, ServerVectorStore]


def open_vector_store(settings: Settings, dimension: int, bm25: Bm25Encoder) -> VectorStore:
    """The llama-index vector store for these settings, created with the shared layout if new."""
    if settings.qdrant_url:
        client = connect(settings.qdrant_url, settings.qdrant_api_key)
        return ServerVectorStore.open(
            client, settings.collection, dimension, bm25.encode_documents, bm25.encode_queries,
            prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k,
            shard_number=settings.shard_number, replication_factor=settings.replication_factor,
            write_consistency_factor=settings.write_consistency_factor, **settings.index_settings(),
        )
    return EdgeVectorStore(settings.edge_path, dimension, bm25.encode_documents, bm25.encode_queries,
                           prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k,
                           **settings.index_settings())  # type: ignore[arg-type]


def drop_vector_store(store: VectorStore, settings: Settings) -> None:
    """Delete the whole index (before a rebuild); the store object is closed."""
    if isinstance(store, ServerVectorStore):
        store.client.delete_collection(settings.collection)
        store.close()
        return
    store.close()
    shutil.rmtree(settings.edge_path, ignore_errors=True)
