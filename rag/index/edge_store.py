"""A llama-index vector store over an embedded Qdrant Edge shard (no server, in-process).

An adapter: it turns llama-index nodes, MetadataFilters and VectorStoreQuery into the plain calls
of rag.index.edge_index.EdgeIndex, which holds the shard and the one implementation of every operation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from rag.index.edge_index import EdgeIndex, edge_condition, edge_config
from rag.index.index_query import IndexQuery, mode_of, sparse_weight_of
from rag.index.nodes import Hit

SparseFn = Callable[[Sequence[str]], tuple[list[list[int]], list[list[float]]]]


def _edge() -> Any:
    import qdrant_edge

    return qdrant_edge


def to_edge_filter(filters: MetadataFilters | None, doc_ids: list[str] | None = None) -> Any:
    """Translate llama-index MetadataFilters (nested, AND/OR/NOT) into a qdrant_edge Filter (None
    when empty); each condition through `rag.index.edge_index.edge_condition`."""
    q = _edge()
    must: list[Any] = []
    if doc_ids:
        must.append(edge_condition("doc_id", "in", list(doc_ids)))
    if filters is not None and filters.filters:
        conditions = []
        for item in filters.filters:
            if isinstance(item, MetadataFilters):
                sub = to_edge_filter(item)
                if sub is not None:
                    conditions.append(sub)
            else:
                conditions.append(edge_condition(item.key, item.operator, item.value))
        if filters.condition == FilterCondition.OR:
            must.append(q.Filter(should=conditions))
        elif filters.condition == FilterCondition.NOT:
            must.append(q.Filter(must_not=conditions))
        else:
            must.extend(conditions)
    return q.Filter(must=must) if must else None


class EdgeVectorStore(BasePydanticVectorStore):
    """Dense + BM25 hybrid store in a Qdrant Edge shard folder, fused with RRF inside Qdrant."""

    stores_text: bool = True
    flat_metadata: bool = False
    path: str
    dimension: int
    prefetch_limit: int = 100
    rrf_k: int = 60
    quantization: str = "none"
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    _index: EdgeIndex | None = PrivateAttr(default=None)

    def __init__(self, path: Path, dimension: int, sparse_doc_fn: SparseFn, sparse_query_fn: SparseFn,
                 prefetch_limit: int = 100, rrf_k: int = 60, quantization: str = "none",
                 hnsw_m: int = 16, hnsw_ef_construct: int = 100, index: EdgeIndex | None = None) -> None:
        """Open (or create) the shard in `path`; or, given `index`, wrap that open shard."""
        super().__init__(path=str(path), dimension=dimension, prefetch_limit=prefetch_limit, rrf_k=rrf_k,
                         quantization=quantization, hnsw_m=hnsw_m, hnsw_ef_construct=hnsw_ef_construct)
        self._index = index or EdgeIndex.open(Path(path), self._config, sparse_doc_fn, sparse_query_fn,
                                              prefetch_limit=prefetch_limit, rrf_k=rrf_k)

    @classmethod
    def class_name(cls) -> str:
        return "EdgeVectorStore"

    def _config(self) -> Any:
        """The shard layout (used only when the shard is created): `rag.index.edge_index.edge_config`."""
        return edge_config(self.dimension, self.quantization, self.hnsw_m, self.hnsw_ef_construct)

    @property
    def edge_index(self) -> EdgeIndex:
        """The open shard and its operations, without llama-index."""
        if self._index is None or self._index.shard is None:
            raise RuntimeError(f"the index in {self.path} is closed")
        return self._index

    @property
    def client(self) -> Any:
        """The underlying qdrant_edge.EdgeShard."""
        return self._index.shard if self._index is not None else None

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Upsert nodes with their dense embedding and a BM25 vector of their text."""
        if not nodes:
            return []
        # BM25 counts what the dense model embeds: the passage with its context header
        self.edge_index.upsert([n.node_id for n in nodes], [n.get_embedding() for n in nodes],
                               [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes],
                               [node_to_metadata_dict(n, remove_text=False, flat_metadata=False) for n in nodes])
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every point of one document."""
        self.edge_index.delete_document(ref_doc_id)

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        """Delete points by id and/or filter."""
        if node_ids:
            self.edge_index.delete_ids(node_ids)
        flt = to_edge_filter(filters)
        if flt is not None:
            self.edge_index.delete_where(flt)

    def clear(self) -> None:
        """Delete every point."""
        self.edge_index.delete_where(_edge().Filter(must=[]))

    def count(self) -> int:
        """Number of points stored."""
        return self.edge_index.count()

    def point_ids(self) -> set[str]:
        """Every point id in the shard (for consistency checks)."""
        return self.edge_index.point_ids()

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Dense, sparse, or hybrid (both prefetched, fused by RRF in Qdrant)."""
        flt = to_edge_filter(query.filters, query.doc_ids)
        mode = mode_of(getattr(query.mode, "value", query.mode))
        points = self.edge_index.query_points(IndexQuery(
            text=query.query_str or "", dense=None if mode == "bm25" else list(query.query_embedding or []),
            k=query.similarity_top_k, prefetch_k=query.sparse_top_k or self.prefetch_limit, mode=mode,
            sparse_weight=sparse_weight_of(query.alpha)), flt)
        nodes, scores, ids = [], [], []
        for point in points:
            nodes.append(metadata_dict_to_node(point.payload))
            scores.append(float(point.score))
            ids.append(str(point.id))
        return VectorStoreQueryResult(nodes=nodes, similarities=scores, ids=ids)

    def search(self, query: IndexQuery) -> list[Hit]:
        """Hits for an `IndexQuery` (as `EdgeIndex.search`)."""
        return self.edge_index.search(query)

    def unindexed(self) -> int:
        """Points whose dense vector is in no HNSW graph yet (see `EdgeIndex.unindexed`)."""
        return self.edge_index.unindexed()

    def optimize(self) -> bool:
        """Merge segments and build the HNSW graphs (blocks; minutes at a million points).
        True when something was optimized."""
        return self.edge_index.optimize()

    def flush(self) -> None:
        """Persist pending writes."""
        self.edge_index.flush()

    def close(self) -> None:
        """Flush and release the shard."""
        if self._index is not None:
            self._index.close()
