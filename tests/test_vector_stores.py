"""Both vector stores on the same data: the embedded Qdrant Edge store and the server store
(through qdrant-client's local mode, which speaks the server API) return the same ids in order."""

from __future__ import annotations

import random

import pytest
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

from ingest.models import Chunk, Document
from rag.index.edge_store import EdgeVectorStore
from rag.index.filters import SearchFilters
from rag.index.nodes import chunk_to_node
from rag.index.server_store import ServerVectorStore, connect
from rag.index.sparse import Bm25Encoder

WORDS = ("nato expansion security guarantees sanctions trade union state belarus ukraine osce "
         "treaty missile defence energy gas pipeline china cooperation grain corridor peace talks "
         "minsk agreements donbass crimea referendum sovereignty economy growth inflation budget").split()
SPEAKERS = ["Sergey Lavrov", "Vladimir Putin", "Julia Gillard", "Question"]
DIM = 16


def _corpus(n_docs: int = 30, seed: int = 7) -> list[tuple[Document, Chunk, list[float]]]:
    """Random statements over a Zipf-like vocabulary.

    Every chunk has a different length, so no two BM25 scores tie: the engines break exact ties
    differently (Qdrant by point id, qdrant-client's local mode by insertion order).
    """
    rng = random.Random(seed)
    lengths = list(range(8, 8 + n_docs * 4))
    rng.shuffle(lengths)
    vocab = WORDS + [f"term{i}" for i in range(400)]
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    rows = []
    for d in range(n_docs):
        year = 2000 + d % 20
        doc = Document(doc_id=f"doc-{d:03d}", text="", source_path=f"/x/{d}.txt", format="txt",
                       title=f"Statement {d}", date=f"{year}-0{1 + d % 9}-1{d % 9}",
                       source="kremlin" if d % 2 else "pm")
        text_parts = []
        for c in range(4):
            sentence = " ".join(rng.choices(vocab, weights, k=lengths[d * 4 + c])) + "."
            start = sum(len(p) + 1 for p in text_parts)
            text_parts.append(sentence)
            speaker = SPEAKERS[(d + c) % len(SPEAKERS)]
            chunk = Chunk(doc_id=doc.doc_id, index=c, text=sentence, char_start=start,
                          char_end=start + len(sentence), turn=c, speaker=speaker,
                          is_question=speaker == "Question")
            vec = [rng.gauss(0, 1) for _ in range(DIM)]
            rows.append((doc, chunk, vec))
        doc.text = " ".join(text_parts)
    return rows


@pytest.fixture()
def stores(tmp_path):
    bm25 = Bm25Encoder()
    edge = EdgeVectorStore(tmp_path / "edge", DIM, bm25.encode_documents, bm25.encode_queries)
    server = ServerVectorStore.open(connect(":memory:"), "statements", DIM, bm25.encode_documents,
                                    bm25.encode_queries)
    rows = _corpus()
    for store in (edge, server):
        store.add([chunk_to_node(doc, chunk, vec) for doc, chunk, vec in rows])
    yield edge, server, rows
    edge.close()
    server.close()


QUERIES = ["nato expansion security", "grain corridor", "sanctions against belarus economy",
           "minsk agreements donbass peace talks", "budget inflation growth"]


@pytest.mark.parametrize("mode", [VectorStoreQueryMode.HYBRID, VectorStoreQueryMode.DEFAULT,
                                  VectorStoreQueryMode.SPARSE])
@pytest.mark.parametrize("filters", [
    SearchFilters(),
    SearchFilters(speakers=["Sergey Lavrov", "Vladimir Putin"]),
    SearchFilters(since="2005", until="2012-06"),
    SearchFilters(sources=["kremlin"], answers_only=True),
])
def test_same_ids_in_same_order(stores, mode, filters):
    edge, server, rows = stores
    rng = random.Random(3)
    for text in QUERIES:
        embedding = [rng.gauss(0, 1) for _ in range(DIM)]
        q = VectorStoreQuery(query_embedding=embedding, query_str=text, similarity_top_k=10,
                             sparse_top_k=40, mode=mode, filters=filters.to_metadata_filters())
        a, b = edge.query(q), server.query(q)
        assert a.ids, f"no hits for {text!r}"
        # exact score ties may be ordered differently by the two engines: the corpus avoids them
        assert len(set(round(s, 9) for s in a.similarities)) == len(a.similarities), "tied scores"
        assert a.ids == b.ids, f"{mode} {filters} {text!r}"
        assert a.similarities == pytest.approx(b.similarities, rel=1e-4)


def test_filters_really_filter(stores):
    edge, _, rows = stores
    q = VectorStoreQuery(query_embedding=[0.1] * DIM, query_str="nato", similarity_top_k=50,
                         mode=VectorStoreQueryMode.HYBRID,
                         filters=SearchFilters(speakers=["Julia Gillard"], since="2010-01-01").to_metadata_filters())
    result = edge.query(q)
    assert result.nodes
    for node in result.nodes:
        assert node.metadata["speaker"] == "Julia Gillard"
        assert node.metadata["date_to"] >= 20100101


def test_delete_document_removes_all_its_points(stores):
    edge, server, rows = stores
    total = len(rows)
    for store in (edge, server):
        assert store.count() == total
        store.delete("doc-003")
        assert store.count() == total - 4
        gone = {chunk_to_node(d, c).node_id for d, c, _ in rows if d.doc_id == "doc-003"}
        assert len(gone) == 4 and not gone & store.point_ids()


def test_reopen_keeps_points(tmp_path):
    bm25 = Bm25Encoder()
    edge = EdgeVectorStore(tmp_path / "edge", DIM, bm25.encode_documents, bm25.encode_queries)
    rows = _corpus(3)
    edge.add([chunk_to_node(doc, chunk, vec) for doc, chunk, vec in rows])
    edge.close()
    again = EdgeVectorStore(tmp_path / "edge", DIM, bm25.encode_documents, bm25.encode_queries)
    assert again.count() == len(rows)
    again.close()


def _rrf(rankings: list[tuple[float, list[str]]], k: int = 60) -> list[str]:
    """Qdrant's weighted RRF: a weight stretches the ranks, 1 / ((rank + 1) / w + k - 1)."""
    scores: dict[str, float] = {}
    for weight, ids in rankings:
        for rank, pid in enumerate(ids):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / ((rank + 1) / weight + k - 1)
    return sorted(scores, key=lambda p: -scores[p])


def test_a_weighted_hybrid_fuses_as_weighted_rrf_on_both_engines(stores):
    """BM25's weight (rag.index.fusion; llama-index's alpha is the dense share) reaches both
    engines: the same ids in the same order, those of a weighted RRF of the two rankings, and
    another order than equal weights for some query."""
    edge, server, _ = stores
    rng = random.Random(5)
    changed = 0
    for text in QUERIES:
        embedding = [rng.gauss(0, 1) for _ in range(DIM)]

        def ask(store, mode, alpha=None, k=10):
            return store.query(VectorStoreQuery(query_embedding=embedding, query_str=text, similarity_top_k=k,
                                                sparse_top_k=40, mode=mode, alpha=alpha)).ids

        weighted = ask(edge, VectorStoreQueryMode.HYBRID, alpha=1 / 1.1)
        assert weighted == ask(server, VectorStoreQueryMode.HYBRID, alpha=1 / 1.1), text
        dense, sparse = ask(edge, VectorStoreQueryMode.DEFAULT, k=40), ask(edge, VectorStoreQueryMode.SPARSE, k=40)
        assert weighted == _rrf([(1.0, dense), (0.1, sparse)])[:10], text
        changed += weighted != ask(edge, VectorStoreQueryMode.HYBRID)
    assert changed, "a BM25 weight of 0.1 changed no ranking"
