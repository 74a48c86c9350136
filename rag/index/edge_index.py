"""The embedded Qdrant Edge shard over the project's own types, with no llama-index: open or create
it with the shared layout, write points, search it with an `IndexQuery`, read hits back.

This is the one implementation of the index: the llama-index adapter (rag.index.edge_store.EdgeVectorStore,
used by ingest) delegates every call here, and `Library.search` calls it directly, so a search
from the command line imports neither llama-index nor its dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from rag.index.filters import Condition
from rag.index.index_query import IndexQuery
from rag.index.layout import DENSE, PAYLOAD_INDEXES, SPARSE
from rag.index.nodes import Hit

SparseFn = Callable[[Sequence[str]], tuple[list[list[int]], list[list[float]]]]


def _edge() -> Any:
    import qdrant_edge

    return qdrant_edge


def edge_config(dimension: int, quantization: str = "none", hnsw_m: int = 16,
                hnsw_ef_construct: int = 100) -> Any:
    """The shard layout (used only when a shard is created): `rag/index/layout.py`, HNSW settings, and
    with quantization "int8" scalar-quantized dense vectors kept in RAM (the float originals stay
    in the vector storage and rescore the top hits)."""
    q = _edge()
    extra: dict[str, Any] = {}
    if quantization == "int8":
        extra["quantization_config"] = q.ScalarQuantizationConfig(
            type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
    return q.EdgeConfig(
        vectors={DENSE: q.EdgeVectorParams(size=dimension, distance=q.Distance.Cosine)},
        sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
        hnsw_config=q.HnswIndexConfig(m=hnsw_m, ef_construct=hnsw_ef_construct, full_scan_threshold=10_000),
        **extra,
    )


def edge_condition(key: str, operator: str, value: Any) -> Any:
    """One payload condition as a qdrant_edge condition (operators as in `rag.index.filters.Condition`;
    llama-index's FilterOperator members compare equal to them)."""
    q = _edge()
    if operator == "==":
        if isinstance(value, float):
            return q.FieldCondition(key, range=q.RangeFloat(gte=value, lte=value))
        return q.FieldCondition(key, match=q.MatchValue(value))
    if operator == "in":
        return q.FieldCondition(key, match=q.MatchAny(list(value)))
    if operator == "!=":
        return q.Filter(must_not=[q.FieldCondition(key, match=q.MatchValue(value))])
    ranges = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    if operator in ranges:
        return q.FieldCondition(key, range=q.RangeFloat(**{ranges[operator]: float(value)}))
    raise NotImplementedError(f"filter operator {operator} is not supported on Qdrant Edge")


def edge_filter(conditions: Iterable[Condition], doc_ids: Sequence[str] | None = None) -> Any:
    """A qdrant_edge Filter that all `conditions` (and, if given, a doc_id in `doc_ids`) must
    match; None when there is nothing to match."""
    q = _edge()
    must = [edge_condition(c.key, c.operator, c.value) for c in conditions]
    if doc_ids:
        must.insert(0, edge_condition("doc_id", "in", list(doc_ids)))
    return q.Filter(must=must) if must else None


@dataclass
class EdgeIndex:
    """An open Qdrant Edge shard holding dense + BM25 vectors, fused with RRF inside Qdrant.

    `sparse_doc_fn` / `sparse_query_fn` make the BM25 vectors of passages and queries
    (rag.index.sparse.Bm25Encoder); `prefetch_limit` is the default depth of each hybrid prefetch.
    """

    shard: Any
    sparse_doc_fn: SparseFn
    sparse_query_fn: SparseFn
    prefetch_limit: int = 100
    rrf_k: int = 60

    @classmethod
    def open(cls, path: Path, config: Callable[[], Any], sparse_doc_fn: SparseFn,
             sparse_query_fn: SparseFn, prefetch_limit: int = 100, rrf_k: int = 60) -> "EdgeIndex":
        """Load the shard in `path`, or create it there with `config()` and the payload indexes."""
        q = _edge()
        path = Path(path)
        if path.exists() and any(path.iterdir()):
            shard = q.EdgeShard.load(str(path))
            shard.info()  # fails loudly on a damaged shard
        else:
            path.mkdir(parents=True, exist_ok=True)
            shard = q.EdgeShard.create(str(path), config())
            kinds = {"keyword": q.PayloadSchemaType.Keyword, "integer": q.PayloadSchemaType.Integer,
                     "bool": q.PayloadSchemaType.Bool}
            for name, kind in PAYLOAD_INDEXES.items():
                shard.update(q.UpdateOperation.create_field_index(name, kinds[kind]))
        return cls(shard, sparse_doc_fn, sparse_query_fn, prefetch_limit=prefetch_limit, rrf_k=rrf_k)

    # -- reading --------------------------------------------------------------------------
    def query_points(self, query: IndexQuery, flt: Any = None) -> list[Any]:
        """The scored points (with payload) for `query`, under the qdrant_edge filter `flt`
        (None: `query.filters`, translated here)."""
        q = _edge()
        if flt is None and query.filters is not None:
            flt = edge_filter(query.filters.conditions())
        k = query.k
        prefetch_k = max(query.prefetch_k or self.prefetch_limit, k)
        if query.mode != "bm25":
            dense = q.Query.Nearest(list(query.dense or []), using=DENSE)
        if query.mode in ("bm25", "hybrid"):
            idx, val = self.sparse_query_fn([query.text or ""])
            sparse = q.Query.Nearest(q.SparseVector(indices=idx[0], values=val[0]), using=SPARSE)
        if query.mode == "hybrid":
            request = q.QueryRequest(
                limit=k, with_payload=True, filter=flt,
                query=(q.Fusion.Rrf(k=self.rrf_k) if query.sparse_weight == 1.0
                       else q.Fusion.Rrf(k=self.rrf_k, weights=[1.0, query.sparse_weight])),
                prefetches=[q.Prefetch(limit=prefetch_k, query=dense, filter=flt),
                            q.Prefetch(limit=prefetch_k, query=sparse, filter=flt)],
            )
        elif query.mode == "bm25":
            request = q.QueryRequest(limit=k, query=sparse, filter=flt, with_payload=True)
        else:
            request = q.QueryRequest(limit=k, query=dense, filter=flt, with_payload=True)
        return list(self.shard.query(request))

    def search(self, query: IndexQuery) -> list[Hit]:
        """The best passages for `query`, best first."""
        return [Hit.from_payload(str(p.id), p.payload, float(p.score)) for p in self.query_points(query)]

    def count(self) -> int:
        """Number of points stored."""
        return int(self.shard.count(_edge().CountRequest(exact=True)))

    def point_ids(self) -> set[str]:
        """Every point id in the shard (for consistency checks)."""
        q = _edge()
        ids: set[str] = set()
        offset = None
        while True:
            records, offset = self.shard.scroll(q.ScrollRequest(offset=offset, limit=1024,
                                                                with_payload=False, with_vector=False))
            ids.update(str(r.id) for r in records)
            if offset is None:
                return ids

    def unindexed(self) -> int:
        """Points whose dense vector is in no HNSW graph yet (searched by a full scan). Qdrant Edge
        counts a point's BM25 vector as indexed at once and its dense vector once `optimize`
        has built the graph of its segment."""
        info = self.shard.info()
        points = int(info.points_count)
        return min(points, max(0, 2 * points - int(info.indexed_vectors_count)))

    # -- writing --------------------------------------------------------------------------
    def upsert(self, ids: Sequence[str], dense: Sequence[Sequence[float]], texts: Sequence[str],
               payloads: Sequence[dict[str, Any]]) -> None:
        """Write points: each with its dense vector and a BM25 vector of its text."""
        q = _edge()
        if not ids:
            return
        indices, values = self.sparse_doc_fn(list(texts))
        points = [q.Point(pid, {DENSE: list(vec), SPARSE: q.SparseVector(indices=idx, values=val)}, payload)
                  for pid, vec, idx, val, payload in zip(ids, dense, indices, values, payloads)]
        self.shard.update(q.UpdateOperation.upsert_points(points))

    def delete_document(self, doc_id: str) -> None:
        """Delete every point of one document."""
        self.delete_where(edge_filter([Condition("doc_id", "==", doc_id)]))

    def delete_ids(self, ids: Sequence[str]) -> None:
        """Delete points by id."""
        if ids:
            self.shard.update(_edge().UpdateOperation.delete_points(list(ids)))

    def delete_where(self, flt: Any) -> None:
        """Delete the points matching a qdrant_edge filter (an empty Filter matches all)."""
        self.shard.update(_edge().UpdateOperation.delete_points_by_filter(flt))

    def optimize(self) -> bool:
        """Merge segments and build the HNSW graphs (blocks; minutes at a million points).
        True when something was optimized."""
        return bool(self.shard.optimize())

    def flush(self) -> None:
        """Persist pending writes."""
        self.shard.flush()

    def close(self) -> None:
        """Flush and release the shard (a second call does nothing)."""
        if self.shard is not None:
            self.shard.close()
            self.shard = None
