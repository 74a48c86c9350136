"""The official llama-index QdrantVectorStore for a Qdrant server or cluster, with RRF fusion in Qdrant."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

from llama_index.core.vector_stores.types import (
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient
from qdrant_client.http import models as rest

from rag.index.index_query import IndexQuery, sparse_weight_of, to_vector_store_query
from rag.index.layout import DENSE, PAYLOAD_INDEXES, SPARSE
from rag.index.nodes import Hit
from rag.settings import CollectionSettingsWarning

SparseFn = Callable[[Sequence[str]], tuple[list[list[int]], list[list[float]]]]

_SCHEMAS = {"keyword": rest.PayloadSchemaType.KEYWORD, "integer": rest.PayloadSchemaType.INTEGER,
            "bool": rest.PayloadSchemaType.BOOL}


def connect(url: str, api_key: str | None = None) -> QdrantClient:
    """A client for `url`; ``:memory:`` and ``path:DIR`` open qdrant-client's local mode."""
    if url == ":memory:":
        return QdrantClient(location=":memory:")
    if url.startswith("path:"):
        return QdrantClient(path=url[len("path:"):])
    return QdrantClient(url=url, api_key=api_key, timeout=60)


_CLUSTER_FLAGS = {"shard_number": "--shards", "replication_factor": "--replicas",
                  "write_consistency_factor": "--write-consistency"}


def ensure_collection(client: QdrantClient, name: str, dimension: int, shard_number: int | None = None,
                      replication_factor: int | None = None,
                      write_consistency_factor: int | None = None, quantization: str = "none",
                      hnsw_m: int = 16, hnsw_ef_construct: int = 100) -> None:
    """Create the collection with the shared layout, or check that an existing one matches it.

    Cluster settings are passed to `create_collection` (None: the server's default). An existing
    collection keeps the ones it was made with: where they differ from the ones asked for, a
    `CollectionSettingsWarning` says so. Workers that start at the same time may race to create
    the collection: the loser finds it made and goes on. `quantization` "int8" adds scalar
    quantization of the dense vectors (kept in RAM); `hnsw_m`/`hnsw_ef_construct` set the graph."""
    wanted = {"shard_number": shard_number, "replication_factor": replication_factor,
              "write_consistency_factor": write_consistency_factor}
    if not client.collection_exists(name):
        try:
            client.create_collection(
                collection_name=name,
                vectors_config={DENSE: rest.VectorParams(size=dimension, distance=rest.Distance.COSINE)},
                sparse_vectors_config={SPARSE: rest.SparseVectorParams(modifier=rest.Modifier.IDF)},
                hnsw_config=rest.HnswConfigDiff(m=hnsw_m, ef_construct=hnsw_ef_construct),
                quantization_config=(rest.ScalarQuantization(scalar=rest.ScalarQuantizationConfig(
                    type=rest.ScalarType.INT8, quantile=0.99, always_ram=True))
                    if quantization == "int8" else None),
                **wanted,
            )
        except Exception:
            if not client.collection_exists(name):  # not a lost race: a real failure
                raise
        else:
            with warnings.catch_warnings():
                # qdrant-client's local mode ignores payload indexes and says so; a server builds them
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for field, kind in PAYLOAD_INDEXES.items():
                    client.create_payload_index(name, field_name=field, field_schema=_SCHEMAS[kind])
            return
    params = client.get_collection(name).config.params
    vectors = params.vectors if isinstance(params.vectors, dict) else {}
    if DENSE not in vectors or SPARSE not in (params.sparse_vectors or {}):
        raise ValueError(f"collection {name!r} exists with another layout: pick another "
                         f"--collection name or delete it on the server")
    if vectors[DENSE].size != dimension:
        raise ValueError(f"collection {name!r} holds {vectors[DENSE].size}-d vectors but the model "
                         f"makes {dimension}-d ones: run `rag reindex` to rebuild it")
    differ = [f"{_CLUSTER_FLAGS[key]} {want} (it has {getattr(params, key)})"
              for key, want in wanted.items()
              if want is not None and getattr(params, key, None) is not None and getattr(params, key) != want]
    if differ:
        warnings.warn(
            f"collection {name!r} already exists, made with other settings than {', '.join(differ)}; "
            f"these settings only apply when a collection is created, so it is used as it is. "
            f"`rag reindex` with them recreates it (every document of this data dir's store is "
            f"embedded again; see docs/cluster.md before doing that to a collection shared by "
            f"several data dirs).", CollectionSettingsWarning, stacklevel=3)


class ServerVectorStore(QdrantVectorStore):
    """QdrantVectorStore whose hybrid mode prefetches dense and BM25 and fuses them by RRF in Qdrant."""

    _prefetch_limit: int = 100
    _rrf_k: int = 60

    @classmethod
    def open(cls, client: QdrantClient, collection: str, dimension: int, sparse_doc_fn: SparseFn,
             sparse_query_fn: SparseFn, prefetch_limit: int = 100, rrf_k: int = 60,
             **collection_kwargs: Any) -> "ServerVectorStore":
        """Ensure the collection exists with the shared layout and wrap it."""
        ensure_collection(client, collection, dimension, **collection_kwargs)
        store = cls(collection_name=collection, client=client, enable_hybrid=True,
                    sparse_doc_fn=sparse_doc_fn, sparse_query_fn=sparse_query_fn,
                    dense_vector_name=DENSE, sparse_vector_name=SPARSE, batch_size=256)
        store._prefetch_limit = prefetch_limit
        store._rrf_k = rrf_k
        return store

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Hybrid through one `query_points` call with two prefetches and RRF; BM25 alone with
        `similarity_top_k` as its limit (upstream takes `sparse_top_k`); dense as upstream."""
        if query.mode not in (VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.SPARSE):
            return super().query(query, **kwargs)
        flt = self._build_query_filter(query)
        idx, val = self._sparse_query_fn([query.query_str or ""])
        if query.mode == VectorStoreQueryMode.SPARSE:
            response = self._client.query_points(
                collection_name=self.collection_name, using=SPARSE,
                query=rest.SparseVector(indices=idx[0], values=val[0]), query_filter=flt,
                limit=query.similarity_top_k, with_payload=True)
            return self.parse_to_query_result(response.points)
        prefetch_k = max(query.sparse_top_k or self._prefetch_limit, query.similarity_top_k)
        weight = sparse_weight_of(query.alpha)
        response = self._client.query_points(
            collection_name=self.collection_name,
            prefetch=[
                rest.Prefetch(query=list(query.query_embedding or []), using=DENSE, limit=prefetch_k,
                              filter=flt),
                rest.Prefetch(query=rest.SparseVector(indices=idx[0], values=val[0]), using=SPARSE,
                              limit=prefetch_k, filter=flt),
            ],
            query=rest.RrfQuery(rrf=rest.Rrf(k=self._rrf_k) if weight == 1.0
                                else rest.Rrf(k=self._rrf_k, weights=[1.0, weight])),
            query_filter=flt,
            limit=query.similarity_top_k,
            with_payload=True,
        )
        return self.parse_to_query_result(response.points)

    def search(self, query: IndexQuery) -> list[Hit]:
        """Hits for an `IndexQuery`, through llama-index's `VectorStoreQuery` (`query` above)."""
        result = self.query(to_vector_store_query(query))
        return [Hit.from_node(n, s) for n, s in zip(result.nodes or [], result.similarities or [])]

    def count(self) -> int:
        """Number of points stored."""
        return int(self._client.count(self.collection_name, exact=True).count)

    def point_ids(self) -> set[str]:
        """Every point id in the collection (for consistency checks)."""
        ids: set[str] = set()
        offset = None
        while True:
            records, offset = self._client.scroll(self.collection_name, limit=1024, offset=offset,
                                                  with_payload=False, with_vectors=False)
            ids.update(str(r.id) for r in records)
            if offset is None:
                return ids

    def unindexed(self) -> int:
        """A server builds its HNSW graphs in the background: nothing for the client to do."""
        return 0

    def optimize(self) -> bool:
        """A server optimizes on its own (its optimizer settings); nothing to do here."""
        return False

    def flush(self) -> None:
        """Writes are acknowledged by the server; nothing to flush."""

    def close(self) -> None:
        """Close the client connection."""
        self._client.close()
