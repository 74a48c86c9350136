"""bench/scale_search.py on a tiny synthetic source: points are made as documented, and the
filtered hybrid query it times returns only points of the asked speaker and date range."""

from __future__ import annotations


import numpy as np
import pytest

from conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("scale_search")


def _source(n: int = 40):
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    from rag.index.sparse import Bm25Encoder

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(n, 384)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    texts = [f"statement {i} on sanctions, trade and security talks number {i % 7}" for i in range(n)]
    idx, val = Bm25Encoder().encode_documents(texts)
    payloads = []
    for i, text in enumerate(texts):
        node = TextNode(text=text, id_=f"n{i}", metadata={"doc_id": f"d{i // 2}", "speaker": "",
                                                         "speaker_key": ""})
        payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
        payload["doc_id"] = f"d{i // 2}"  # as our ingest stores it (the node has no source relation here)
        payloads.append(payload)
    return dense, list(zip(idx, val)), payloads


@pytest.mark.parametrize("int8", [False, True])
def test_built_points_and_filtered_hybrid_query(bench, tmp_path, int8):
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

    from rag.index.filters import date_bounds
    from rag.index.sparse import Bm25Encoder

    dense, sparse, payloads = _source()
    speakers = ["Mr. A", "Ms. B", "Mr. C"]
    bench.TunedEdgeVectorStore.tuning = {"int8": True, "hnsw_m": 8, "hnsw_ef_construct": 32} if int8 else {}
    bm25 = Bm25Encoder()
    store = bench.TunedEdgeVectorStore(tmp_path / "shard", 384, bm25.encode_documents, bm25.encode_queries)
    try:
        bench.build(store, 200, dense, sparse, payloads, speakers, sigma=0.01, seed=1, batch=64)
        store.client.optimize()
        assert store.count() == 200
        q = bench._edge()
        records, _ = store.client.scroll(q.ScrollRequest(limit=200, with_payload=True, with_vector=True))
        doc_ids = {(r.payload["doc_id"]) for r in records}
        assert len(doc_ids) == 100  # 20 source documents x 5 copies, each copy its own doc id
        for r in records:
            vec = np.asarray(r.vector["dense"])
            assert abs(np.linalg.norm(vec) - 1) < 1e-3
            assert r.payload["speaker"] in speakers
            assert 19900101 <= r.payload["date_from"] == r.payload["date_to"] <= 20251231
        filters = bench.make_filters(speakers, 20, seed=1)
        for i, flt in enumerate(filters):
            result = store.query(VectorStoreQuery(
                query_embedding=dense[i].tolist(), query_str="sanctions trade", similarity_top_k=10,
                sparse_top_k=100, mode=VectorStoreQueryMode.HYBRID, filters=flt.to_metadata_filters()))
            lo, hi = date_bounds(flt.since)[0], date_bounds(flt.until)[1]
            assert len(result.nodes) == len(result.ids)
            for pid in result.ids:
                rec = store.client.retrieve([pid], with_payload=True, with_vector=False)[0]
                assert rec.payload["speaker_key"] == flt.speakers[0].lower()
                assert lo <= rec.payload["date_from"] <= hi
        timed = bench.time_queries(store, ["sanctions"] * 12, dense[:12], filters[:12], 12, 100)
        assert set(timed) == set(bench.COLUMNS) and all(t["n"] == 12 for t in timed.values())
    finally:
        store.close()
        bench.TunedEdgeVectorStore.tuning = {}
