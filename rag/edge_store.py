"""A llama-index vector store over an embedded Qdrant Edge shard (no server, in-process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from rag.layout import DENSE, PAYLOAD_INDEXES, SPARSE

SparseFn = Callable[[Sequence[str]], tuple[list[list[int]], list[list[float]]]]


def _edge() -> Any:
    import qdrant_edge

    return qdrant_edge


def _condition(q: Any, key: str, operator: FilterOperator, value: Any) -> Any:
    if operator == FilterOperator.EQ:
        if isinstance(value, float):
            return q.FieldCondition(key, range=q.RangeFloat(gte=value, lte=value))
        return q.FieldCondition(key, match=q.MatchValue(value))
    if operator == FilterOperator.IN:
        return q.FieldCondition(key, match=q.MatchAny(list(value)))
    if operator == FilterOperator.NE:
        return q.Filter(must_not=[q.FieldCondition(key, match=q.MatchValue(value))])
    ranges = {FilterOperator.GT: "gt", FilterOperator.GTE: "gte",
              FilterOperator.LT: "lt", FilterOperator.LTE: "lte"}
    if operator in ranges:
        return q.FieldCondition(key, range=q.RangeFloat(**{ranges[operator]: float(value)}))
    raise NotImplementedError(f"filter operator {operator} is not supported on Qdrant Edge")


def to_edge_filter(filters: MetadataFilters | None, doc_ids: list[str] | None = None) -> Any:
    """Translate llama-index MetadataFilters into a qdrant_edge Filter (None when empty)."""
    q = _edge()
    must: list[Any] = []
    if doc_ids:
        must.append(q.FieldCondition("doc_id", match=q.MatchAny(list(doc_ids))))
    if filters is not None and filters.filters:
        conditions = []
        for item in filters.filters:
            if isinstance(item, MetadataFilters):
                sub = to_edge_filter(item)
                if sub is not None:
                    conditions.append(sub)
            else:
                conditions.append(_condition(q, item.key, item.operator, item.value))
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
    _shard: Any = PrivateAttr(default=None)
    _sparse_doc_fn: SparseFn = PrivateAttr()
    _sparse_query_fn: SparseFn = PrivateAttr()

    def __init__(self, path: Path, dimension: int, sparse_doc_fn: SparseFn, sparse_query_fn: SparseFn,
                 prefetch_limit: int = 100, rrf_k: int = 60, quantization: str = "none",
                 hnsw_m: int = 16, hnsw_ef_construct: int = 100) -> None:
        super().__init__(path=str(path), dimension=dimension, prefetch_limit=prefetch_limit, rrf_k=rrf_k,
                         quantization=quantization, hnsw_m=hnsw_m, hnsw_ef_construct=hnsw_ef_construct)
        self._sparse_doc_fn = sparse_doc_fn
        self._sparse_query_fn = sparse_query_fn
        self._shard = self._open()

    @classmethod
    def class_name(cls) -> str:
        return "EdgeVectorStore"

    def _config(self) -> Any:
        """The shard layout (used only when the shard is created): `rag/layout.py`, HNSW settings,
        and with quantization "int8" scalar-quantized dense vectors kept in RAM (the float
        originals stay in the vector storage and rescore the top hits)."""
        q = _edge()
        extra: dict[str, Any] = {}
        if self.quantization == "int8":
            extra["quantization_config"] = q.ScalarQuantizationConfig(
                type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
        return q.EdgeConfig(
            vectors={DENSE: q.EdgeVectorParams(size=self.dimension, distance=q.Distance.Cosine)},
            sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
            hnsw_config=q.HnswIndexConfig(m=self.hnsw_m, ef_construct=self.hnsw_ef_construct,
                                          full_scan_threshold=10_000),
            **extra,
        )

    def _open(self) -> Any:
        q = _edge()
        path = Path(self.path)
        if path.exists() and any(path.iterdir()):
            shard = q.EdgeShard.load(str(path))
            shard.info()  # fails loudly on a damaged shard
        else:
            path.mkdir(parents=True, exist_ok=True)
            shard = q.EdgeShard.create(str(path), self._config())
            kinds = {"keyword": q.PayloadSchemaType.Keyword, "integer": q.PayloadSchemaType.Integer,
                     "bool": q.PayloadSchemaType.Bool}
            for name, kind in PAYLOAD_INDEXES.items():
                shard.update(q.UpdateOperation.create_field_index(name, kinds[kind]))
        return shard

    @property
    def client(self) -> Any:
        """The underlying qdrant_edge.EdgeShard."""
        return self._shard

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Upsert nodes with their dense embedding and a BM25 vector of their text."""
        q = _edge()
        if not nodes:
            return []
        # BM25 counts what the dense model embeds: the passage with its context header
        indices, values = self._sparse_doc_fn([n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes])
        points = []
        for node, idx, val in zip(nodes, indices, values):
            embedding = node.get_embedding()
            payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
            vector = {DENSE: list(embedding), SPARSE: q.SparseVector(indices=idx, values=val)}
            points.append(q.Point(node.node_id, vector, payload))
        self._shard.update(q.UpdateOperation.upsert_points(points))
        return [n.node_id for n in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every point of one document."""
        q = _edge()
        self._shard.update(q.UpdateOperation.delete_points_by_filter(
            q.Filter(must=[q.FieldCondition("doc_id", match=q.MatchValue(ref_doc_id))])))

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        """Delete points by id and/or filter."""
        q = _edge()
        if node_ids:
            self._shard.update(q.UpdateOperation.delete_points(list(node_ids)))
        flt = to_edge_filter(filters)
        if flt is not None:
            self._shard.update(q.UpdateOperation.delete_points_by_filter(flt))

    def clear(self) -> None:
        """Delete every point."""
        q = _edge()
        self._shard.update(q.UpdateOperation.delete_points_by_filter(q.Filter(must=[])))

    def count(self) -> int:
        """Number of points stored."""
        q = _edge()
        return int(self._shard.count(q.CountRequest(exact=True)))

    def point_ids(self) -> set[str]:
        """Every point id in the shard (for consistency checks)."""
        q = _edge()
        ids: set[str] = set()
        offset = None
        while True:
            records, offset = self._shard.scroll(q.ScrollRequest(offset=offset, limit=1024,
                                                                 with_payload=False, with_vector=False))
            ids.update(str(r.id) for r in records)
            if offset is None:
                return ids

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Dense, sparse, or hybrid (both prefetched, fused by RRF in Qdrant)."""
        q = _edge()
        flt = to_edge_filter(query.filters, query.doc_ids)
        k = query.similarity_top_k
        prefetch_k = max(query.sparse_top_k or self.prefetch_limit, k)
        if query.mode != VectorStoreQueryMode.SPARSE:
            dense = q.Query.Nearest(list(query.query_embedding or []), using=DENSE)
        if query.mode in (VectorStoreQueryMode.SPARSE, VectorStoreQueryMode.HYBRID):
            idx, val = self._sparse_query_fn([query.query_str or ""])
            sparse = q.Query.Nearest(q.SparseVector(indices=idx[0], values=val[0]), using=SPARSE)
        if query.mode == VectorStoreQueryMode.HYBRID:
            request = q.QueryRequest(
                limit=k, with_payload=True, filter=flt, query=q.Fusion.Rrf(k=self.rrf_k),
                prefetches=[q.Prefetch(limit=prefetch_k, query=dense, filter=flt),
                            q.Prefetch(limit=prefetch_k, query=sparse, filter=flt)],
            )
        elif query.mode == VectorStoreQueryMode.SPARSE:
            request = q.QueryRequest(limit=k, query=sparse, filter=flt, with_payload=True)
        else:
            request = q.QueryRequest(limit=k, query=dense, filter=flt, with_payload=True)
        points = self._shard.query(request)
        nodes, scores, ids = [], [], []
        for point in points:
            nodes.append(metadata_dict_to_node(point.payload))
            scores.append(float(point.score))
            ids.append(str(point.id))
        return VectorStoreQueryResult(nodes=nodes, similarities=scores, ids=ids)

    def unindexed(self) -> int:
        """Points whose dense vector is in no HNSW graph yet (searched by a full scan). Qdrant Edge
        counts a point's BM25 vector as indexed at once and its dense vector once `optimize`
        has built the graph of its segment."""
        info = self._shard.info()
        points = int(info.points_count)
        return min(points, max(0, 2 * points - int(info.indexed_vectors_count)))

    def optimize(self) -> bool:
        """Merge segments and build the HNSW graphs (blocks; minutes at a million points).
        True when something was optimized."""
        return bool(self._shard.optimize())

    def flush(self) -> None:
        """Persist pending writes."""
        self._shard.flush()

    def close(self) -> None:
        """Flush and release the shard."""
        if self._shard is not None:
            self._shard.close()
            self._shard = None
