"""Index layout for large collections (int8 quantization, HNSW settings), building the search
graph (`optimize`, by itself after a big ingest or with `rag optimize`), and the embedding
precision (bf16 where the CPU has it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
from qdrant_client.http import models as rest

from rag.cli import commands as cli
from rag.index.edge_store import EdgeVectorStore
from rag.index.server_store import connect, ensure_collection
from rag.index.sparse import Bm25Encoder
from rag.library import Library
from rag.models.embedding import Embedder, resolve_precision
from rag.settings import Settings

DIM = 8


def _nodes(n: int, seed: int = 0) -> list[TextNode]:
    rng = np.random.default_rng(seed)
    words = ["treaty", "sanctions", "election", "trade", "climate", "border", "summit", "energy"]
    out = []
    for i in range(n):
        vec = rng.normal(size=DIM)
        out.append(TextNode(id_=f"00000000-0000-0000-0000-{i + 1:012d}",
                            text=f"{words[i % len(words)]} statement number {i}",
                            embedding=(vec / np.linalg.norm(vec)).tolist(),
                            metadata={"doc_id": f"d{i // 4}"}))
    return out


@pytest.mark.parametrize("kwargs, message", [
    ({"quantization": "int4"}, "--quantization must be one of none, int8"),
    ({"hnsw_m": 2}, "--hnsw-m must be a whole number of at least 4"),
    ({"hnsw_ef_construct": 0}, "--hnsw-ef-construct must be a whole number of at least 4"),
    ({"optimize_after": -1}, "optimize_after must be a whole number of at least 0"),
    ({"embed_precision": "fp16"}, "must be auto, fp32 or bf16"),
])
def test_bad_index_settings_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(data_dir=tmp_path, **kwargs)


def test_environment_sets_quantization_and_precision(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_QUANTIZATION", "int8")
    monkeypatch.setenv("RAG_EMBED_PRECISION", "fp32")
    settings = Settings.from_env(data_dir=tmp_path)
    assert (settings.quantization, settings.embed_precision) == ("int8", "fp32")
    assert Settings.from_env(data_dir=tmp_path, quantization="none").quantization == "none"


def test_int8_shard_is_created_with_quantization_and_hnsw_settings(tmp_path):
    bm25 = Bm25Encoder()
    store = EdgeVectorStore(tmp_path / "edge", DIM, bm25.encode_documents, bm25.encode_queries,
                            quantization="int8", hnsw_m=32, hnsw_ef_construct=200)
    store.add(_nodes(40))
    store.flush()
    config = json.loads((tmp_path / "edge" / "edge_config.json").read_text())
    assert config["quantization_config"] == {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": True}}
    assert (config["hnsw_config"]["m"], config["hnsw_config"]["ef_construct"]) == (32, 200)
    # a fresh shard is searched by a full scan: every dense vector waits for a graph
    assert store.unindexed() == 40
    query = _nodes(1, seed=5)[0]
    request = VectorStoreQuery(query_embedding=query.embedding, query_str="trade summit",
                               similarity_top_k=5, mode=VectorStoreQueryMode.HYBRID)
    before = store.query(request).ids
    store.optimize()
    assert store.query(request).ids == before  # optimizing changes how, not what, it finds
    store.close()
    plain = EdgeVectorStore(tmp_path / "plain", DIM, bm25.encode_documents, bm25.encode_queries)
    assert "quantization_config" not in json.loads((tmp_path / "plain" / "edge_config.json").read_text())
    plain.close()


def test_server_collection_gets_quantization_and_hnsw(monkeypatch):
    seen: dict = {}
    original = connect(":memory:").__class__.create_collection

    def spy(self, collection_name, *args, **kwargs):
        seen.update(kwargs)
        return original(self, collection_name, *args, **kwargs)

    client = connect(":memory:")
    monkeypatch.setattr(client.__class__, "create_collection", spy)
    ensure_collection(client, "c", DIM, quantization="int8", hnsw_m=24, hnsw_ef_construct=150)
    assert seen["hnsw_config"] == rest.HnswConfigDiff(m=24, ef_construct=150)
    scalar = seen["quantization_config"].scalar
    assert (scalar.type, scalar.always_ram) == (rest.ScalarType.INT8, True)
    seen.clear()
    ensure_collection(client, "d", DIM)
    assert seen["quantization_config"] is None


def test_ingest_builds_the_graph_once_enough_passages_wait(tmp_path, embedder, monkeypatch):
    calls: list[int] = []
    real = EdgeVectorStore.optimize

    def counting(self: EdgeVectorStore) -> bool:
        calls.append(self.unindexed())
        return real(self)

    monkeypatch.setattr(EdgeVectorStore, "optimize", counting)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("".join(
        f"Minister: On point {i} we said the treaty on {w} must be signed this year. "
        f"We will not wait for the others. The talks go on.\n\n"
        for i, w in enumerate(["trade", "energy", "borders", "climate", "water", "fisheries"] * 3)))
    settings = Settings(data_dir=tmp_path / "data", progress=False, optimize_after=1)
    with Library(settings, embedder=embedder) as lib:
        report = lib.ingest([docs])
        assert report.chunks > 0 and calls == [report.chunks] and report.optimize_seconds > 0
        assert "search graph built" in report.summary()
        again = lib.ingest([docs])  # nothing new embedded: no graph building
        assert again.chunks == 0 and len(calls) == 1
    with Library(Settings(data_dir=tmp_path / "data2", progress=False), embedder=embedder) as lib:
        lib.ingest([docs])
        assert len(calls) == 1  # a handful of passages: a full scan is as fast, no graph built


def test_rag_optimize_command(tmp_path, embedder, monkeypatch, capsys):
    monkeypatch.setattr("rag.library.Embedder", lambda *a, **k: embedder)
    data = str(tmp_path / "data")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Minister: We will sign the trade treaty next week. It is a good treaty.\n")
    assert cli.main(["ingest", str(docs), "--data-dir", data, "--quiet", "--quantization", "int8"]) == 0
    capsys.readouterr()
    assert cli.main(["optimize", "--data-dir", data, "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["unindexed_before"] >= 1 and set(result) == {"unindexed_before", "unindexed_after",
                                                               "optimized", "seconds"}
    config = json.loads((Path(data) / "qdrant-edge" / "edge_config.json").read_text())
    assert config["quantization_config"]["scalar"]["type"] == "int8"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["optimize", "--data-dir", data, "--quantization", "int4"])
    assert exit_info.value.code == 2


def test_precision_names():
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") in ("fp32", "bf16")
    with pytest.raises(ValueError, match="unknown embedding precision 'int3'"):
        resolve_precision("int3")


def test_bf16_vectors_match_float32():
    texts = ["We will not accept any threat to our territorial integrity.",
             "The delegation supports the resolution on climate finance.",
             "Question: When will the troops leave? Answer: When the mission is done."]
    fp32 = Embedder(precision="fp32").embed(texts)
    bf16 = Embedder(precision="bf16").embed(texts)
    assert bf16.dtype == np.float32 and np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosines = (fp32 * bf16).sum(axis=1)
    assert cosines.min() > 0.999
    # and they still tell the texts apart as float32 does
    assert np.array_equal(np.argsort(fp32 @ fp32.T, axis=1), np.argsort(bf16 @ bf16.T, axis=1))


@pytest.mark.parametrize("text", ["", "Hello.", "Mr. Lavrov: «Да, конечно» — c'est ça!  Ünïcödé\ttabs\n\nand\u00a0nbsp",
                                  "antidisestablishmentarianism " * 40, "😀 emoji, 中文, العربية"])
def test_fast_token_count_equals_the_models_tokenizer(embedder, text):
    expected = len(embedder.model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    assert embedder.count_tokens(text) == expected


def test_speaker_list_is_cached_until_any_connection_writes(tmp_path):
    from ingest.models import Chunk, Document
    from rag.store.store import Store

    def put(store: Store, doc_id: str, speaker: str) -> None:
        text = f"{speaker} said something."
        doc = Document(doc_id=doc_id, text=text, source_path=f"/x/{doc_id}.txt", format="txt")
        chunk = Chunk(doc_id=doc_id, index=0, text=text, char_start=0, char_end=len(text), turn=0,
                      speaker=speaker, is_question=False, page=None)
        store.put_documents([(doc, "h-" + doc_id, [chunk], [doc_id + "-0"])])

    path = tmp_path / "store.sqlite3"
    mine, other = Store(path), Store(path)
    put(mine, "a", "Lavrov")
    assert mine.speakers() == [("Lavrov", 1)]
    reads: list[str] = []
    mine.conn.set_trace_callback(reads.append)
    assert mine.speakers() == [("Lavrov", 1)]
    assert not any("GROUP BY speaker" in sql for sql in reads)  # served from the cache
    put(other, "b", "Wang Yi")  # a commit by another connection (another process, the web page)
    assert sorted(mine.speakers()) == [("Lavrov", 1), ("Wang Yi", 1)]
    put(mine, "c", "Wang Yi")  # and by this one
    assert mine.speakers() == [("Wang Yi", 2), ("Lavrov", 1)]
    mine.close()
    other.close()


def test_a_small_torch_call_runs_on_one_thread_and_a_batch_on_all(embedder, monkeypatch):
    """Queries go through the numpy encoder now (rag.models.light_encoder); a small call to the torch
    model (the grounding judge's, a short `embed`) still runs on one thread."""
    import torch

    seen: list[int] = []
    real = embedder.model.encode

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(embedder.model, "encode", spy)
    before = torch.get_num_threads()
    embedder.embed(["What did the minister say about the treaty?"])
    embedder.embed([f"sentence number {i} about trade" for i in range(12)])
    embedder.embed_query("What did the minister say about the treaty?")  # not through torch
    assert seen == [1, before] and torch.get_num_threads() == before
