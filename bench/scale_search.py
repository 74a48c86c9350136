"""Query latency and resident memory of our search at 10k / 100k / 1M points in one Qdrant Edge shard.

The shard is made by our own `rag.index.edge_store.EdgeVectorStore` (layout and payload indexes of
`rag/index/layout.py`) and every timed search is `EdgeVectorStore.query` with the `VectorStoreQuery`
that `rag.library.Library.search` builds (k=10, prefetch 100 per branch, RRF k 60, no rerank,
filters from `rag.index.filters.SearchFilters`); only the query embedding is taken out of the timed
call (it is timed on its own, once per query, up front).

Points: the real chunks of an existing collection (dense vector, BM25 sparse vector, payload,
read back with `scroll`), reused cyclically. Copy 0 of each chunk is unchanged; every further
copy gets its dense vector plus Gaussian noise (sigma per dimension, re-normalised), a new unique
doc id, and, per (document, copy), a speaker drawn from ~500 real UN General Debate speaker names
(Zipf-like weights) and a date uniform over 1990-2025. The BM25 vector and the text are the
original chunk's. Nothing is re-embedded.

Each size runs in its own subprocess, so the resident memory (VmRSS / VmHWM from
/proc/self/status) is per size.

    .venv/bin/python bench/scale_search.py --src /tmp/evruns/scifact-data/qdrant-edge \
        --sizes 10000 100000 1000000 --int8-at 1000000 --append bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scale_common, also when loaded by a test
from scale_common import machine, proc_status, read_speakers, versions, zipf_weights  # noqa: E402

from rag.index.edge_store import EdgeVectorStore, _edge  # noqa: E402
from rag.index.filters import SearchFilters  # noqa: E402
from rag.index.layout import DENSE, SPARSE  # noqa: E402
from rag.index.sparse import Bm25Encoder  # noqa: E402
from rag.settings import Settings  # noqa: E402

K = 10
MODES = {"hybrid": VectorStoreQueryMode.HYBRID, "dense": VectorStoreQueryMode.DEFAULT,
         "bm25": VectorStoreQueryMode.SPARSE}
COLUMNS = ["hybrid", "hybrid+filter", "dense", "bm25"]


# -- preparation: real points, speakers, queries -------------------------------------------------
def prepare(src: Path, cache: Path, queries_file: Path, n_queries: int, ungdc: Path, seed: int) -> None:
    """Copy the source shard (it may be open in another process), scroll every point with its
    vectors and payload, pick the speaker names, embed the queries (timed one by one)."""
    q = _edge()
    cache.mkdir(parents=True, exist_ok=True)
    copy = cache / "src-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(src, copy)
    shard = q.EdgeShard.load(str(copy))
    dense, sparse, payloads = [], [], []
    offset = None
    while True:
        records, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=1024, with_payload=True,
                                                       with_vector=True))
        for r in records:
            dense.append(r.vector[DENSE])
            sv = r.vector[SPARSE]
            sparse.append((list(sv.indices), list(sv.values)))
            payloads.append(dict(r.payload))
        if offset is None:
            break
    shard.close()
    shutil.rmtree(copy, ignore_errors=True)
    np.save(cache / "dense.npy", np.asarray(dense, dtype=np.float32))
    with open(cache / "points.pkl", "wb") as fh:
        pickle.dump({"sparse": sparse, "payloads": payloads, "src": str(src)}, fh)

    speakers = read_speakers(ungdc)

    texts = []
    with open(queries_file) as fh:
        for line in fh:
            rec = json.loads(line)
            texts.append(rec.get("text") or rec.get("question") or rec.get("query"))
            if len(texts) >= n_queries:
                break
    from rag.models.embedding import Embedder

    emb = Embedder()
    emb.embed_query("warm up")
    vectors, times = [], []
    for text in texts:
        t0 = time.perf_counter()
        vectors.append(emb.embed_query(text))
        times.append((time.perf_counter() - t0) * 1000)
    np.save(cache / "queries.npy", np.asarray(vectors, dtype=np.float32))
    (cache / "meta.json").write_text(json.dumps({
        "speakers": speakers, "queries": texts, "queries_file": str(queries_file),
        "embed_ms": times, "n_source": len(dense), "seed": seed}, indent=1))
    print(f"prepared {len(dense)} source points, {len(speakers)} speakers, {len(texts)} queries "
          f"(embed p50 {np.percentile(times, 50):.1f} ms)", flush=True)


# -- the store, optionally with int8 quantization and HNSW settings --------------------------------
class TunedEdgeVectorStore(EdgeVectorStore):
    """Our store with the collection config optionally extended (quantization, HNSW)."""

    tuning: ClassVar[dict[str, Any]] = {}

    def _config(self) -> Any:
        q = _edge()
        base = super()._config()
        if not self.tuning:
            return base
        extra: dict[str, Any] = {}
        if self.tuning.get("int8"):
            extra["quantization_config"] = q.ScalarQuantizationConfig(
                type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
        if self.tuning.get("hnsw_m"):
            extra["hnsw_config"] = q.HnswIndexConfig(
                m=self.tuning["hnsw_m"], ef_construct=self.tuning["hnsw_ef_construct"],
                full_scan_threshold=10000)
        return q.EdgeConfig(vectors=base.vectors, sparse_vectors=base.sparse_vectors, **extra)


def date_int(d: int) -> tuple[str, int]:
    """Day number since 1990-01-01 -> ISO date and YYYYMMDD integer."""
    import datetime as dt

    day = dt.date(1990, 1, 1) + dt.timedelta(days=d)
    return day.isoformat(), int(day.strftime("%Y%m%d"))


N_DAYS = 13148  # 1990-01-01 .. 2025-12-31


def build(store: EdgeVectorStore, n: int, dense: np.ndarray, sparse: list, payloads: list,
          speakers: list[str], sigma: float, seed: int, batch: int) -> None:
    """Upsert n points made from the source points (see the module docstring)."""
    from tqdm import tqdm

    q = _edge()
    rng = np.random.default_rng(seed)
    weights = zipf_weights(len(speakers))
    s_count = len(dense)
    sparse_vecs = [q.SparseVector(indices=i, values=v) for i, v in sparse]
    doc_attrs: dict[tuple[str, int], tuple[str, str, int]] = {}
    shard = store.client
    with tqdm(total=n, desc=f"upsert {n}", unit="pt", mininterval=5, file=sys.stdout) as bar:
        for start in range(0, n, batch):
            ids = np.arange(start, min(n, start + batch))
            src = ids % s_count
            rep = ids // s_count
            vecs = dense[src].copy()
            noisy = rep > 0
            if noisy.any():
                vecs[noisy] += rng.normal(0.0, sigma, size=(int(noisy.sum()), vecs.shape[1])).astype(np.float32)
                vecs[noisy] /= np.linalg.norm(vecs[noisy], axis=1, keepdims=True)
            points = []
            for j, (i, s, r) in enumerate(zip(ids.tolist(), src.tolist(), rep.tolist())):
                payload = dict(payloads[s])
                orig = payload.get("doc_id")
                orig = str(orig) if orig not in (None, "", "None") else f"src-{s}"
                key = (orig, r)
                attrs = doc_attrs.get(key)
                if attrs is None:
                    speaker = speakers[int(rng.choice(len(speakers), p=weights))]
                    iso, num = date_int(int(rng.integers(0, N_DAYS)))
                    attrs = doc_attrs[key] = (speaker, iso, num)
                speaker, iso, num = attrs
                doc_id = orig if r == 0 else f"{orig}~{r}"
                payload.update(doc_id=doc_id, document_id=doc_id, ref_doc_id=doc_id, speaker=speaker,
                               speaker_key=speaker.lower(), date=iso, date_from=num, date_to=num,
                               source="scale-bench")
                points.append(q.Point(str(uuid.UUID(int=i + 1)),
                                      {DENSE: vecs[j].tolist(), SPARSE: sparse_vecs[s]}, payload))
            shard.update(q.UpdateOperation.upsert_points(points))
            bar.update(len(points))


def make_filters(speakers: list[str], n: int, seed: int) -> list[SearchFilters]:
    """Speaker (drawn with the data's weights) + a date range of 1-10 whole years in 1990-2025."""
    rng = np.random.default_rng(seed + 1)
    weights = zipf_weights(len(speakers))
    out = []
    for _ in range(n):
        speaker = speakers[int(rng.choice(len(speakers), p=weights))]
        length = int(rng.integers(1, 11))
        y0 = int(rng.integers(1990, 2026 - length + 1))
        out.append(SearchFilters(speakers=[speaker], since=str(y0), until=str(y0 + length - 1)))
    return out


def time_queries(store: EdgeVectorStore, texts: list[str], vectors: np.ndarray,
                 filters: list[SearchFilters], limit: int, prefetch: int) -> dict[str, Any]:
    """p50/p95 ms of `EdgeVectorStore.query` per column, the query as Library.search builds it."""
    out: dict[str, Any] = {}
    n = min(limit, len(texts))
    for column in COLUMNS:
        mode = "hybrid" if column == "hybrid+filter" else column
        use_filter = column == "hybrid+filter"
        times, empty, short = [], 0, 0
        for warm in (True, False):
            for i in range(min(10, n) if warm else n):
                request = VectorStoreQuery(
                    query_embedding=None if mode == "bm25" else vectors[i].tolist(), query_str=texts[i],
                    similarity_top_k=K, sparse_top_k=max(prefetch, K), mode=MODES[mode],
                    filters=filters[i].to_metadata_filters() if use_filter else None)
                t0 = time.perf_counter()
                result = store.query(request)
                dt = (time.perf_counter() - t0) * 1000
                if not warm:
                    times.append(dt)
                    got = len(result.nodes or [])
                    empty += got == 0
                    short += got < K
        out[column] = {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95)),
                       "mean": float(np.mean(times)), "n": len(times), "empty": empty, "short": short}
        print(f"  {column:14s} p50 {out[column]['p50']:8.2f} ms  p95 {out[column]['p95']:8.2f} ms "
              f"(n={len(times)}, fewer than {K} hits: {short})", flush=True)
    return out


def reopen_worker(args: argparse.Namespace) -> None:
    """Open an already built shard in a fresh process (as `rag search` would) and time the same
    queries: the memory here is what serving costs, without the build's leftovers."""
    rss0 = proc_status()
    cache = Path(args.cache)
    meta = json.loads((cache / "meta.json").read_text())
    vectors = np.load(cache / "queries.npy")
    texts = meta["queries"]
    filters = make_filters(meta["speakers"], len(texts), meta["seed"])
    n = args.worker
    path = Path(args.work) / f"shard-{n}{'-int8' if n in args.int8_at else ''}"
    settings = Settings()
    bm25 = Bm25Encoder()
    t0 = time.perf_counter()
    store = EdgeVectorStore(path, vectors.shape[1], bm25.encode_documents, bm25.encode_queries,
                            prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k)
    result: dict[str, Any] = {"size": n, "open_s": time.perf_counter() - t0, "rss_start": rss0,
                              "rss_open": proc_status(), "info": _info(store)}
    print(f"reopened {n} in {result['open_s']:.1f} s, RSS {result['rss_open']}", flush=True)
    result["search"] = time_queries(store, texts, vectors, filters, len(texts), settings.prefetch_limit)
    result["rss_after_search"] = proc_status()
    print(f"RSS after search {result['rss_after_search']}", flush=True)
    store.close()
    Path(args.out).write_text(json.dumps(result, indent=1))


def worker(args: argparse.Namespace) -> None:
    q = _edge()
    rss0 = proc_status()
    cache = Path(args.cache)
    meta = json.loads((cache / "meta.json").read_text())
    dense = np.load(cache / "dense.npy")
    with open(cache / "points.pkl", "rb") as fh:
        pts = pickle.load(fh)
    vectors = np.load(cache / "queries.npy")
    texts = meta["queries"]
    filters = make_filters(meta["speakers"], len(texts), meta["seed"])
    rss_data = proc_status()
    n = args.worker
    tuned = n in args.int8_at
    TunedEdgeVectorStore.tuning = ({"int8": True, "hnsw_m": args.hnsw_m,
                                    "hnsw_ef_construct": args.hnsw_ef_construct} if tuned else {})
    path = Path(args.work) / f"shard-{n}{'-int8' if tuned else ''}"
    shutil.rmtree(path, ignore_errors=True)
    settings = Settings()
    bm25 = Bm25Encoder()
    store = TunedEdgeVectorStore(path, dense.shape[1], bm25.encode_documents, bm25.encode_queries,
                                 prefetch_limit=settings.prefetch_limit, rrf_k=settings.rrf_k)
    t0 = time.perf_counter()
    build(store, n, dense, pts["sparse"], pts["payloads"], meta["speakers"], args.sigma, meta["seed"],
          args.batch)
    store.flush()
    upsert_s = time.perf_counter() - t0
    info = store.client.info()
    print(f"upserted {n} in {upsert_s:.1f} s; segments {info.segments_count}, indexed vectors "
          f"{info.indexed_vectors_count}", flush=True)
    result: dict[str, Any] = {"size": n, "tuned": tuned, "upsert_s": upsert_s, "rss_start": rss0,
                              "rss_data": rss_data, "n_source": meta["n_source"], "sigma": args.sigma}
    # how selective the filters are at this size
    matches = [store.client.count(q.CountRequest(filter=_edge_filter(f), exact=True)) for f in filters]
    result["filter_matches"] = {"median": float(np.median(matches)), "p5": float(np.percentile(matches, 5)),
                                "p95": float(np.percentile(matches, 95)),
                                "under_k": int(sum(m < K for m in matches))}
    print(f"filter matches: {result['filter_matches']}", flush=True)
    if args.pre_queries:
        print("search as ingest leaves the shard (no optimize):", flush=True)
        result["before_optimize"] = time_queries(store, texts, vectors, filters, args.pre_queries,
                                                 settings.prefetch_limit)
        result["before_optimize_info"] = _info(store)
        result["rss_before_optimize"] = proc_status()
    t0 = time.perf_counter()
    store.client.optimize()
    result["optimize_s"] = time.perf_counter() - t0
    result["after_optimize_info"] = _info(store)
    result["rss_after_build"] = proc_status()
    print(f"optimize {result['optimize_s']:.1f} s; {result['after_optimize_info']}", flush=True)
    print("search after optimize:", flush=True)
    result["after_optimize"] = time_queries(store, texts, vectors, filters, len(texts),
                                            settings.prefetch_limit)
    result["rss_after_search"] = proc_status()
    store.close()
    result["disk_mb"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024
    if not args.keep:
        shutil.rmtree(path, ignore_errors=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("rss_after_build", "rss_after_search", "disk_mb")}), flush=True)


def _edge_filter(f: SearchFilters) -> Any:
    from rag.index.edge_store import to_edge_filter

    return to_edge_filter(f.to_metadata_filters())


def _info(store: EdgeVectorStore) -> dict[str, int]:
    info = store.client.info()
    return {"segments": info.segments_count, "points": info.points_count,
            "indexed_vectors": info.indexed_vectors_count}


# -- report ------------------------------------------------------------------------------------
def report(results: list[dict[str, Any]], meta: dict[str, Any], start: dict[str, Any], end_load: tuple,
           command: str, args: argparse.Namespace, not_run: list[str]) -> str:
    emb = np.asarray(meta["embed_ms"])
    lines = [f"## Search at scale: 10k / 100k / 1M points in one Qdrant Edge shard "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             "Written by `bench/scale_search.py`.", "",
             f"- command: `{command}`",
             f"- machine: nproc {start['nproc']}, {start['ram_gb']} GB RAM, {start['cpu']}; load average "
             f"(1/5/15 min) at start {'/'.join(f'{x:.1f}' for x in start['load'])}, at end "
             f"{'/'.join(f'{x:.1f}' for x in end_load)} (other agents' jobs share the 2 cores: latencies are "
             f"upper bounds for an idle machine)",
             f"- packages: {versions()}",
             f"- points: {meta['n_source']} real SciFact chunks (MiniLM dense + BM25 sparse vectors and "
             f"payloads read back from `{Path(meta.get('src', args.src))}`), reused cyclically; copy 0 "
             f"unchanged, every further copy's dense vector + N(0, {args.sigma}) per dimension, "
             f"re-normalised (cosine to the original ~{1 / np.sqrt(1 + args.sigma ** 2 * 384):.2f}); BM25 "
             f"vector and text are the original's (so at 100k / 1M each chunk's BM25 vector occurs "
             f"~{100000 / meta['n_source']:.0f} / ~{1000000 / meta['n_source']:.0f} times); doc ids unique per copy; per (document, copy) a speaker from the 500 most frequent "
             f"UN General Debate speaker names (Zipf-like weights, s=0.8) and a date uniform over 1990-2025",
             f"- queries: the first {len(meta['queries'])} queries of `{meta['queries_file']}`, embedded once "
             f"up front with `Embedder.embed_query` one at a time: p50 {np.percentile(emb, 50):.1f} ms, "
             f"p95 {np.percentile(emb, 95):.1f} ms per query (not in the search figures)",
             f"- timed call: `EdgeVectorStore.query(VectorStoreQuery(...))` as `Library.search` builds it, "
             f"k={K}, prefetch {Settings().prefetch_limit} per branch, RRF k {Settings().rrf_k}, no rerank, "
             f"payloads returned and parsed into nodes; 10 warm-up queries per column not counted",
             "- filter (hybrid+filter): `SearchFilters(speakers=[one name], since=YYYY, until=YYYY)` with a "
             "1-10 year range: speaker_key MatchAny + date_to >= / date_from <= over our payload indexes",
             f"- layout: `rag/index/layout.py` through `EdgeVectorStore` (cosine dense 384, BM25 sparse with IDF "
             f"modifier, 7 payload indexes); the int8 rows add `ScalarQuantizationConfig(Int8, quantile 0.99, "
             f"always_ram)` and `HnswIndexConfig(m={args.hnsw_m}, ef_construct={args.hnsw_ef_construct})` "
             f"to the shard config",
             "- build: upsert in batches of " + str(args.batch) + " (+ flush), then `EdgeShard.optimize()` "
             "(builds the HNSW and the indexed segments); RSS = VmRSS of the size's own subprocess "
             "(VmHWM = its peak, build included)", ""]
    lines += ["| points | config | shard state | hybrid p50/p95 ms | hybrid+filter p50/p95 | dense p50/p95 | "
              "bm25 p50/p95 | upsert s | optimize s | RSS after search MB | peak RSS MB | disk MB |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def cells(t: dict[str, Any]) -> str:
        return " | ".join(f"{t[c]['p50']:.1f} / {t[c]['p95']:.1f}" for c in COLUMNS)

    for r in results:
        cfg = f"int8 + HNSW m={args.hnsw_m}" if r["tuned"] else "our layout (defaults)"
        if "before_optimize" in r:
            b = r["before_optimize_info"]
            lines.append(f"| {r['size']:,} | {cfg} | as ingested, no optimize ({b['segments']} segments, "
                         f"{b['indexed_vectors']} indexed vectors; {r['before_optimize']['hybrid']['n']} queries) | "
                         f"{cells(r['before_optimize'])} | {r['upsert_s']:.0f} | - | "
                         f"{r['rss_before_optimize']['VmRSS']:.0f} | - | - |")
        a = r["after_optimize_info"]
        lines.append(f"| {r['size']:,} | {cfg} | optimized ({a['segments']} segments, {a['indexed_vectors']} "
                     f"indexed vectors, dense + sparse) | {cells(r['after_optimize'])} | {r['upsert_s']:.0f} | {r['optimize_s']:.0f} | "
                     f"{r['rss_after_search']['VmRSS']:.0f} | {r['rss_after_search']['VmHWM']:.0f} | "
                     f"{r['disk_mb']:.0f} |")
        if "reopen" in r:
            o = r["reopen"]
            lines.append(f"| {r['size']:,} | {cfg} | optimized, opened in a fresh process ({o['open_s']:.1f} s "
                         f"to open) | {cells(o['search'])} | - | - | {o['rss_after_search']['VmRSS']:.0f} | "
                         f"{o['rss_after_search']['VmHWM']:.0f} | - |")
    lines.append("")
    lines.append("Filter selectivity (points matching speaker + date range, over the 200 filters): " + "; ".join(
        f"{r['size']:,}: median {r['filter_matches']['median']:.0f}, p95 {r['filter_matches']['p95']:.0f}, "
        f"{r['filter_matches']['under_k']} filters match fewer than {K}" for r in results) + ".")
    reopened = [r for r in results if "reopen" in r]
    if reopened:
        lines.append("Fresh process serving the built shard: RSS before opening, after opening, after the "
                     "800 searches (anon + file): " + "; ".join(
                         f"{r['size']:,}: {r['reopen']['rss_start']['VmRSS']:.0f} -> "
                         f"{r['reopen']['rss_open']['VmRSS']:.0f} -> "
                         f"{r['reopen']['rss_after_search']['VmRSS']:.0f} MB "
                         f"({r['reopen']['rss_after_search'].get('RssAnon', 0):.0f} + "
                         f"{r['reopen']['rss_after_search'].get('RssFile', 0):.0f})" for r in reopened) + ".")
    split = [r for r in results if "RssAnon" in r["rss_after_search"]]
    if split:
        lines.append("RSS after search split into anonymous memory (heap) and mapped files: " + "; ".join(
            f"{r['size']:,}: {r['rss_after_search']['RssAnon']:.0f} MB anon + "
            f"{r['rss_after_search']['RssFile']:.0f} MB file" for r in split) + ".")
    lines.append("RSS before the shard was opened (Python + llama-index + source points in memory): " + "; ".join(
        f"{r['size']:,}: {r['rss_data']['VmRSS']:.0f} MB" for r in results) + ".")
    lines.append("")
    by = {r["size"]: r for r in results}
    tgt = []

    def verdict(size: int, ms: float) -> str:
        r = by.get(size)
        if r is None:
            return f"not measured ({size:,} not run)"
        p95 = r["after_optimize"]["hybrid+filter"]["p95"]
        s = f"p95 {p95:.1f} ms after optimize: {'met' if p95 <= ms else 'NOT met'}"
        if "before_optimize" in r:
            b = r["before_optimize"]["hybrid+filter"]["p95"]
            s += f"; as ingested (no optimize) p95 {b:.1f} ms: {'met' if b <= ms else 'NOT met'}"
        return s

    tgt.append(f"- hybrid filtered search without rerank p95 <= 50 ms at 100k: {verdict(100000, 50)}")
    tgt.append(f"- hybrid filtered search without rerank p95 <= 100 ms at 1M: {verdict(1000000, 100)}")
    if 1000000 in by:
        hwm = by[1000000]["rss_after_search"]["VmHWM"]
        rss = by[1000000]["rss_after_search"]["VmRSS"]
        tgt.append(f"- resident memory <= 4 GB at 1M: RSS after search {rss / 1024:.2f} GB, peak "
                   f"{hwm / 1024:.2f} GB: {'met' if max(rss, hwm) <= 4096 else 'NOT met'}")
    else:
        tgt.append("- resident memory <= 4 GB at 1M: not measured (1M not run)")
    lines += ["Targets of issue 6:", *tgt]
    for item in not_run:
        lines.append(f"- {item}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default="/tmp/evruns/scifact-data/qdrant-edge", help="shard to draw real points from")
    ap.add_argument("--queries", default="/work/shared/data/scifact/queries_train.jsonl")
    ap.add_argument("--ungdc", default="/work/shared/data/ungdc", help="speaker names come from here")
    ap.add_argument("--n-queries", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000])
    ap.add_argument("--int8-at", type=int, nargs="*", default=[1000000],
                    help="sizes built with int8 scalar quantization + the HNSW settings below")
    ap.add_argument("--hnsw-m", type=int, default=16)
    ap.add_argument("--hnsw-ef-construct", type=int, default=100)
    ap.add_argument("--sigma", type=float, default=0.01, help="per-dimension noise of reused dense vectors")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--pre-queries", type=int, default=200,
                    help="queries timed before optimize() (the shard as our ingest leaves it); 0: skip")
    ap.add_argument("--work", default="/tmp/scale_bench")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", action="store_true", help="keep the shards")
    ap.add_argument("--reprepare", action="store_true")
    ap.add_argument("--append", help="append the section to this markdown file")
    ap.add_argument("--report-only", action="store_true",
                    help="write the section from the result-*.json files of --sizes already in --work")
    ap.add_argument("--start-load", help="with --report-only: the load average at the start, a/b/c")
    ap.add_argument("--command", help="with --report-only: the command that produced the results")
    ap.add_argument("--reopen", action="store_true",
                    help="also time the queries in a fresh process that opens the built shard")
    ap.add_argument("--reopen-only", action="store_true",
                    help="only the fresh-process runs, on shards kept (--keep) in --work by an earlier run")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        (reopen_worker if args.reopen else worker)(args)
        return
    start = machine()
    command = " ".join([".venv/bin/python", "bench/scale_search.py", *sys.argv[1:]])
    work = Path(args.work)
    cache = work / "cache"
    if args.reprepare or not (cache / "meta.json").exists():
        prepare(Path(args.src), cache, Path(args.queries), args.n_queries, Path(args.ungdc), args.seed)
    meta = json.loads((cache / "meta.json").read_text())
    meta["src"] = pickle.load(open(cache / "points.pkl", "rb"))["src"]
    results, not_run = [], []
    if args.report_only:
        start["load"] = tuple(float(x) for x in args.start_load.split("/")) if args.start_load else start["load"]
        command = args.command or command
        for n in args.sizes:
            out = work / f"result-{n}.json"
            if out.exists():
                results.append(json.loads(out.read_text()))
                if (work / f"result-{n}-reopen.json").exists():
                    results[-1]["reopen"] = json.loads((work / f"result-{n}-reopen.json").read_text())
            else:
                not_run.append(f"{n:,} points: not run")
    for n in [] if args.report_only else args.sizes:
        base = [sys.executable, __file__, "--worker", str(n), "--cache", str(cache), "--work", str(work),
                "--int8-at", *map(str, args.int8_at)]
        if args.reopen_only:
            reopen = work / f"result-{n}-reopen.json"
            print(f"== {n:,} points, reopened", flush=True)
            if subprocess.call(base + ["--reopen", "--out", str(reopen)]) == 0:
                results.append(json.loads((work / f"result-{n}.json").read_text()))
                results[-1]["reopen"] = json.loads(reopen.read_text())
            continue
        out = work / f"result-{n}.json"
        out.unlink(missing_ok=True)
        cmd = [sys.executable, __file__, "--worker", str(n), "--cache", str(cache), "--out", str(out),
               "--work", str(work), "--sigma", str(args.sigma), "--batch", str(args.batch),
               "--hnsw-m", str(args.hnsw_m), "--hnsw-ef-construct", str(args.hnsw_ef_construct),
               "--pre-queries", str(args.pre_queries if n < 1000000 else min(args.pre_queries, 50)),
               "--int8-at", *map(str, args.int8_at)] + (["--keep"] if args.keep else [])
        print(f"== {n:,} points", flush=True)
        rc = subprocess.call(cmd)
        if rc == 0 and out.exists():
            results.append(json.loads(out.read_text()))
            if args.reopen:
                reopen = work / f"result-{n}-reopen.json"
                print(f"== {n:,} points, reopened", flush=True)
                if subprocess.call(base + ["--reopen", "--out", str(reopen)]) == 0:
                    results[-1]["reopen"] = json.loads(reopen.read_text())
        else:
            not_run.append(f"{n:,} points: the run failed (exit {rc})")
    text = report(results, meta, start, os.getloadavg(), command, args, not_run)
    print(text)
    if args.append:
        with open(args.append, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
