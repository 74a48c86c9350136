"""The light read path: `rag search` / `rag ask` import no heavy module, and the direct search of the
embedded index returns what the llama-index path returned on the same data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
from llama_index.core.vector_stores.utils import metadata_dict_to_node

from rag.collection.check import scan_points
from rag.index.filters import SearchFilters
from rag.index.nodes import Hit
from rag.library import Library
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
HEAVY = ("torch", "transformers", "sentence_transformers", "gradio", "matplotlib", "llama_index",
         "qdrant_client", "pandas", "scipy")
FILES = [SAMPLE / "seed", SAMPLE / "html"]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory, embedder) -> Path:
    """A few sample folders ingested into an embedded data dir, then closed (free for a subprocess)."""
    data = tmp_path_factory.mktemp("read-path")
    with Library(Settings(data_dir=data, progress=False), embedder=embedder) as lib:
        report = lib.ingest(FILES)
    assert report.ok and report.chunks > 30
    return data


def _imported(stderr: str) -> set[str]:
    """Top-level packages named in `-X importtime` output."""
    return {m.group(1).split(".")[0] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", stderr, re.M)}


@pytest.mark.parametrize("command", [["search", "NATO expansion"], ["search", "trade", "--speaker", "lavrov",
                                     "--mode", "dense", "--json"],
                                     ["ask", "What did Lavrov say about NATO expansion?"]])
def test_read_commands_import_no_heavy_module(small_data, command):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "rag.cli", *command,
                          "--data-dir", str(small_data)], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() and "no matching passages" not in out.stdout
    imported = _imported(out.stderr)
    assert "numpy" in imported and "qdrant_edge" in imported  # the parse works: these are needed
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


QUERIES = ["NATO expansion", "security guarantees in Europe", "grain exports and sanctions",
           "What did the Prime Minister say about the economy?", "Union State integration"]
FILTERS = [{}, {"speaker": "lavrov"}, {"since": "2010", "until": "2023-06"}, {"answers_only": True}]
LLAMA_MODES = {"hybrid": VectorStoreQueryMode.HYBRID, "dense": VectorStoreQueryMode.DEFAULT,
               "bm25": VectorStoreQueryMode.SPARSE}


def _llama_path(lib: Library, query: str, mode: str, k: int, filters: SearchFilters) -> list[Hit]:
    """Search as Library.search did before the split: a VectorStoreQuery with the torch query vector
    through the llama-index store, hits read back from its nodes."""
    vector = None if mode == "bm25" else lib.embedder.embed([query])[0].tolist()
    # the same BM25 weight as the direct path's adaptive fusion, as llama-index's alpha (dense share)
    alpha = 1.0 / (1.0 + lib.fusion_weight(query, filters)) if mode == "hybrid" else None
    result = lib.vectors.query(VectorStoreQuery(
        query_embedding=vector, query_str=query, similarity_top_k=k,
        sparse_top_k=max(lib.settings.prefetch_limit, k), mode=LLAMA_MODES[mode],
        filters=filters.to_metadata_filters(), alpha=alpha))
    return [Hit.from_node(n, s) for n, s in zip(result.nodes or [], result.similarities or [])]


def _tie_groups(hits: list[Hit], tol: float = 1e-6) -> list[tuple[float, frozenset[str]]]:
    """Runs of hits whose scores are within `tol` of the run's first: (score, their ids). Qdrant
    Edge orders exact RRF ties differently from one call to the next (measured: the same query
    twice on the same shard), and light and torch query vectors differ by ~1e-7 in a cosine."""
    groups: list[tuple[float, set[str]]] = []
    for h in hits:
        if groups and abs(groups[-1][0] - h.score) <= tol:
            groups[-1][1].add(h.point_id)
        else:
            groups.append((h.score, {h.point_id}))
    return [(score, frozenset(ids)) for score, ids in groups]


def _same_ranking(a: list[Hit], b: list[Hit]) -> bool:
    """Same hits in the same order up to ties; the last run of ties may be cut at k differently."""
    ga, gb = _tie_groups(a), _tie_groups(b)
    if len(a) != len(b) or len(ga) != len(gb):
        return False
    return all(x[1] == y[1] and abs(x[0] - y[0]) <= 1e-6 for x, y in zip(ga[:-1], gb[:-1])) and \
        abs(ga[-1][0] - gb[-1][0]) <= 1e-6


def test_direct_search_returns_the_llama_index_paths_hits(small_data, embedder):
    with Library(Settings(data_dir=small_data, progress=False), embedder=embedder) as lib:
        compared = 0
        for query in QUERIES:
            for mode in ("hybrid", "dense", "bm25"):
                for flt in FILTERS:
                    direct = lib.search(query, k=10, mode=mode, **flt)  # type: ignore[arg-type]
                    speakers = lib.resolve_speakers([flt["speaker"]]) if "speaker" in flt else None
                    filters = SearchFilters(speakers=speakers, since=flt.get("since"), until=flt.get("until"),
                                            answers_only=flt.get("answers_only", False))
                    old = _llama_path(lib, query, mode, 10, filters)
                    assert direct, (query, mode, flt)
                    assert _same_ranking(direct, old), (query, mode, flt, [(h.point_id, h.score) for h in direct],
                                                        [(h.point_id, h.score) for h in old])
                    theirs = {h.point_id: h for h in old}
                    for a in direct:
                        if a.point_id in theirs:
                            assert {**a.__dict__, "score": 0} == {**theirs[a.point_id].__dict__, "score": 0}
                    compared += 1
        assert compared == len(QUERIES) * 3 * len(FILTERS)


def test_hits_from_payloads_equal_hits_from_nodes(small_data, embedder):
    with Library(Settings(data_dir=small_data, progress=False), embedder=embedder) as lib:
        q = __import__("qdrant_edge")
        records, n = lib.index.shard.scroll(q.ScrollRequest(limit=10_000, with_payload=True, with_vector=False))[0], 0
        for r in records:
            assert Hit.from_payload(str(r.id), r.payload, 0.5) == Hit.from_node(metadata_dict_to_node(r.payload), 0.5)
            n += 1
        assert n == lib.index.count() == len(list(scan_points(lib.vectors)))


def test_server_path_returns_the_same_hits(tmp_path, small_data, embedder):
    """Library.search through the server store (qdrant-client local mode) and the embedded index."""
    server = Settings(data_dir=tmp_path / "d", qdrant_url=f"path:{tmp_path / 'q'}", progress=False)
    with Library(server, embedder=embedder) as lib:
        lib.ingest(FILES)
        got = {(q, m): lib.search(q, k=5, mode=m) for q in QUERIES[:3] for m in ("hybrid", "dense", "bm25")}
    with Library(Settings(data_dir=small_data, progress=False), embedder=embedder) as lib:
        for (q, m), hits in got.items():
            edge = lib.search(q, k=5, mode=m)  # exact RRF ties: each engine orders them its own way
            assert _same_ranking(edge, hits), (q, m, [(h.point_id, h.score) for h in edge],
                                               [(h.point_id, h.score) for h in hits])
