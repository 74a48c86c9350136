"""End-to-end search, rerank and ask latency and resident memory through `rag.library.Library`
at 10k / 100k / 1M chunks: what a user of `rag serve` waits for, the query embedding included.

Each size gets a complete data dir (SQLite store + Qdrant Edge shard) that
`Library(Settings(data_dir=...))` opens normally, written through the product's own code path
with no embedding model run: per batch of documents `store.mark_pending`, `vectors.add(
[chunk_to_node(...)])` (which computes the BM25 vectors), `vectors.flush()`, `store.put_documents`
(what `rag.collection.ingestion.Ingestor._flush` does, minus the embedding), then `Library.optimize()`.

Documents: the real SciFact documents and chunks of an existing data dir, with their stored
MiniLM vectors read back from its shard. Copy 0 of a document keeps its id and vectors; copy r>=1
is the same document under the id "<orig>~r" with every chunk's dense vector plus N(0, sigma) per
dimension, re-normalised. Every copy (copy 0 included) gets a speaker drawn Zipf-like from the
500 most frequent UN General Debate speaker names and a date uniform over 1990-2025, set on the
document, its turns and its chunks, so the payload that `rag.index.nodes.chunk_to_node` writes carries
them exactly as an ingest would. Copies are added until the chunk count reaches the size (the
last document may be cut short).

The build and the measurement run in separate subprocesses; the measuring one opens the
finished data dir fresh, as `rag serve` does, so its resident memory is what serving costs.

    nice -n 10 .venv/bin/python bench/scale_library.py --sizes 10000 100000
    nice -n 10 .venv/bin/python bench/scale_library.py --sizes 1000000 --keep
    # optional second measurement of the kept data dirs with one torch thread:
    nice -n 10 .venv/bin/python bench/scale_library.py --sizes 100000 1000000 --skip-build \
        --torch-threads 1 --tag _t1
    .venv/bin/python bench/scale_library.py --report-only --sizes 10000 100000 1000000 \
        --compare-tag _t1 --append bench/RESULTS.md

Results (build-N.json, measure-N.json, result-N.json) and the data dirs (data-N) go to --work
(/tmp/scale_lib); the 1M data dir is deleted after its measurement unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scale_common, also when loaded by a test

from ingest.models import Chunk, Document  # noqa: E402
from rag.index.filters import date_bounds  # noqa: E402
from scale_common import machine, proc_status, read_speakers, versions, zipf_weights  # noqa: E402

K = 10
N_DAYS = (dt.date(2025, 12, 31) - dt.date(1990, 1, 1)).days + 1
WORK = Path("/tmp/scale_lib")


@dataclass
class SourceDoc:
    """One stored document with its chunks and their dense vectors (one row per chunk)."""

    doc: Document
    chunks: list[Chunk]
    vectors: np.ndarray


@dataclass
class FilterSpec:
    """One speaker and a whole-year date range, as passed to `Library.search`."""

    speaker: str
    since: str
    until: str


# -- measures -----------------------------------------------------------------------------------
def disk_mb(path: Path) -> float:
    """Bytes of all files under `path`, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def percentiles(times: list[float]) -> dict[str, float]:
    """p50 / p95 / mean / n of a list of milliseconds."""
    if not times:
        return {"p50": float("nan"), "p95": float("nan"), "mean": float("nan"), "n": 0}
    return {"p50": float(np.percentile(times, 50)), "p95": float(np.percentile(times, 95)),
            "mean": float(np.mean(times)), "n": len(times)}


# -- source data --------------------------------------------------------------------------------
def read_vectors(shard_dir: Path, scratch: Path) -> dict[str, np.ndarray]:
    """point id -> dense vector of every point in a shard (read from a copy: the shard may be
    open in another process)."""
    from rag.index.edge_store import _edge
    from rag.index.layout import DENSE

    q = _edge()
    copy = scratch / "src-shard"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(shard_dir, copy)
    shard = q.EdgeShard.load(str(copy))
    out: dict[str, np.ndarray] = {}
    offset = None
    try:
        while True:
            records, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=1024, with_payload=False,
                                                           with_vector=True))
            for r in records:
                out[str(r.id)] = np.asarray(r.vector[DENSE], dtype=np.float32)
            if offset is None:
                return out
    finally:
        shard.close()
        shutil.rmtree(copy, ignore_errors=True)


def read_source(src: Path, scratch: Path) -> list[SourceDoc]:
    """Every document of a data dir with its chunks and stored dense vectors. The store is
    copied with SQLite's backup API first (read-only on the source)."""
    from rag.index.nodes import point_id
    from rag.store.store import Store

    scratch.mkdir(parents=True, exist_ok=True)
    vectors = read_vectors(src / "qdrant-edge", scratch)
    copy = scratch / "src-store.sqlite3"
    copy.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src / 'store.sqlite3'}?mode=ro", uri=True)
    dest = sqlite3.connect(str(copy))
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()
    store = Store(copy)
    docs = []
    try:
        for doc in store.iter_documents():
            chunks = store.chunks(doc.doc_id)
            ids = [point_id(doc.doc_id, c.index) for c in chunks]
            if chunks and all(i in vectors for i in ids):
                docs.append(SourceDoc(doc, chunks, np.stack([vectors[i] for i in ids])))
    finally:
        store.close()
        copy.unlink(missing_ok=True)
    return docs


def read_queries(path: Path, n: int) -> list[str]:
    """The first n query texts of a JSONL file (field "text")."""
    out = []
    with open(path) as fh:
        for line in fh:
            out.append(json.loads(line)["text"])
            if len(out) >= n:
                break
    return out


def prepare(src: Path, ungdc: Path, queries: Path, n_queries: int, cache: Path) -> None:
    """Read the source documents, speaker names and questions once into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    docs = read_source(src, cache)
    with open(cache / "source.pkl", "wb") as fh:
        pickle.dump(docs, fh)
    meta = {"src": str(src), "ungdc": str(ungdc), "queries_file": str(queries),
            "speakers": read_speakers(ungdc), "queries": read_queries(queries, n_queries),
            "source_docs": len(docs), "source_chunks": sum(len(d.chunks) for d in docs)}
    (cache / "meta.json").write_text(json.dumps(meta, indent=1))
    print(f"prepared {meta['source_docs']} documents / {meta['source_chunks']} chunks, "
          f"{len(meta['speakers'])} speakers, {len(meta['queries'])} questions", flush=True)


# -- copies ---------------------------------------------------------------------------------------
def iso_day(day: int) -> str:
    """Day number since 1990-01-01 -> ISO date."""
    return (dt.date(1990, 1, 1) + dt.timedelta(days=day)).isoformat()


def make_copy(src: SourceDoc, r: int, speaker: str, date: str, take: int, noise: np.ndarray | None
              ) -> tuple[Document, list[Chunk], np.ndarray]:
    """Copy r of a document under its own id, with this speaker and date, its first `take`
    chunks and their vectors (plus `noise`, re-normalised, when given)."""
    doc_id = src.doc.doc_id if r == 0 else f"{src.doc.doc_id}~{r}"
    doc = replace(src.doc, doc_id=doc_id, date=date, speakers=[speaker],
                  turns=[replace(t, speaker=speaker) for t in src.doc.turns])
    chunks = [replace(c, doc_id=doc_id, speaker=speaker) for c in src.chunks[:take]]
    vecs = src.vectors[:take]
    if noise is not None:
        vecs = vecs + noise[:take]
        vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    return doc, chunks, vecs


def copies(source: list[SourceDoc], size: int, speakers: list[str], seed: int, sigma: float
           ) -> Iterator[tuple[Document, list[Chunk], np.ndarray]]:
    """Documents copy 0, 1, 2, ... of the source until `size` chunks in all."""
    rng = np.random.default_rng(seed)
    weights = zipf_weights(len(speakers))
    dim = source[0].vectors.shape[1]
    total, r = 0, 0
    while total < size:
        for src in source:
            take = min(len(src.chunks), size - total)
            if take <= 0:
                return
            speaker = speakers[int(rng.choice(len(speakers), p=weights))]
            date = iso_day(int(rng.integers(0, N_DAYS)))
            noise = (rng.normal(0.0, sigma, size=(take, dim)).astype(np.float32) if r else None)
            yield make_copy(src, r, speaker, date, take, noise)
            total += take
        r += 1


# -- build ----------------------------------------------------------------------------------------
def write_batch(lib: Any, items: list[tuple[Document, list[Chunk], np.ndarray]]) -> None:
    """Ingestor._flush without the embedding: intent, points, flush, then the store rows."""
    from rag.collection.ingestion import content_hash
    from rag.index.nodes import chunk_to_node, point_id

    if not items:
        return
    nodes = [chunk_to_node(doc, c, vec.tolist()) for doc, chunks, vecs in items for c, vec in zip(chunks, vecs)]
    lib.store.mark_pending([doc.doc_id for doc, _, _ in items])
    lib.vectors.add(nodes)
    lib.vectors.flush()
    lib.store.put_documents([(doc, content_hash(doc), chunks, [point_id(doc.doc_id, c.index) for c in chunks])
                             for doc, chunks, _ in items])


def build(data_dir: Path, size: int, source: list[SourceDoc], speakers: list[str], seed: int = 13,
          sigma: float = 0.01, quantization: str = "none", batch_chunks: int = 1000,
          embedder: Any = None, progress: bool = True) -> dict[str, Any]:
    """Make a data dir of `size` chunks (see the module docstring), optimize it; times, memory, disk."""
    from tqdm import tqdm

    from rag.library import Library
    from rag.settings import Settings

    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, quantization=quantization, optimize_after=0, progress=False)
    lib = Library(settings, embedder=embedder)  # the model is never run: vectors come from the source
    try:
        t0 = time.perf_counter()
        with lib.writer_lock.hold(0.0, "scale build"), \
                tqdm(total=size, desc=f"build {size:,}", unit="chunk", mininterval=5, file=sys.stdout,
                     disable=not progress) as bar:
            batch: list[tuple[Document, list[Chunk], np.ndarray]] = []
            for item in copies(source, size, speakers, seed, sigma):
                batch.append(item)
                if sum(len(c) for _, c, _ in batch) >= batch_chunks:
                    write_batch(lib, batch)
                    bar.update(sum(len(c) for _, c, _ in batch))
                    batch = []
            write_batch(lib, batch)
            bar.update(sum(len(c) for _, c, _ in batch))
        build_s = time.perf_counter() - t0
        rss_built = proc_status()
        optimized = lib.optimize(progress=progress)
        out = {"size": size, "quantization": quantization, "hnsw_m": settings.hnsw_m,
               "hnsw_ef_construct": settings.hnsw_ef_construct, "build_s": build_s,
               "optimize": optimized, "optimize_s": optimized["seconds"], "rss_built": rss_built,
               "points": lib.vectors.count(), "sigma": sigma, "seed": seed, "batch_chunks": batch_chunks}
    finally:
        lib.close()
    out["rss_end"] = proc_status()
    out["disk_mb"] = disk_mb(data_dir)
    out["store_mb"] = settings.store_path.stat().st_size / 1e6
    out["shard_mb"] = disk_mb(settings.edge_path)
    return out


# -- measurement ----------------------------------------------------------------------------------
def make_filters(speakers: list[str], n: int, seed: int, present: set[str] | None = None) -> list[FilterSpec]:
    """One speaker (drawn with the build's weights, among those `present` in the collection when
    given: the product refuses an unknown name) and 1-10 whole years in 1990-2025 per query."""
    rng = np.random.default_rng(seed + 1)
    weights = zipf_weights(len(speakers))
    if present is not None:
        weights = weights * np.array([s in present for s in speakers])
        weights = weights / weights.sum()
    out = []
    for _ in range(n):
        speaker = speakers[int(rng.choice(len(speakers), p=weights))]
        length = int(rng.integers(1, 11))
        y0 = int(rng.integers(1990, 2026 - length + 1))
        out.append(FilterSpec(speaker, str(y0), str(y0 + length - 1)))
    return out


class ModelMeter:
    """Times every call of one Embedder's `embed` and `embed_queries` (passage, sentence and query
    embeddings alike; queries go through the light numpy encoder) by wrapping them on that instance
    while the `with` block runs; `take()` returns the milliseconds and calls since the last take."""

    METHODS = ("embed", "embed_queries")

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.ms = 0.0
        self.calls = 0

    def _timed(self, inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def timed(texts: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(texts)
            finally:
                self.ms += (time.perf_counter() - t0) * 1000
                self.calls += 1

        return timed

    def __enter__(self) -> "ModelMeter":
        for name in self.METHODS:
            setattr(self.embedder, name, self._timed(getattr(self.embedder, name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.METHODS:
            delattr(self.embedder, name)  # the class's method again

    def take(self) -> tuple[float, int]:
        """(ms, calls) since the last take."""
        out = (self.ms, self.calls)
        self.ms, self.calls = 0.0, 0
        return out


class Column:
    """The timings of one column: total ms per call, model ms inside it, model calls."""

    def __init__(self) -> None:
        self.total: list[float] = []
        self.model: list[float] = []
        self.calls: list[int] = []

    def time(self, meter: ModelMeter, call: Callable[[], Any]) -> Any:
        """Run and time one call."""
        meter.take()
        t0 = time.perf_counter()
        result = call()
        self.total.append((time.perf_counter() - t0) * 1000)
        ms, calls = meter.take()
        self.model.append(ms)
        self.calls.append(calls)
        return result

    def summary(self) -> dict[str, Any]:
        """p50/p95 of the total, of the model part and of the rest; mean model calls per call."""
        rest = [t - m for t, m in zip(self.total, self.model)]
        return {"total": percentiles(self.total), "model": percentiles(self.model), "rest": percentiles(rest),
                "model_calls": float(np.mean(self.calls)) if self.calls else 0.0, "times": self.total}


def check_filtered(f: FilterSpec, hits: Any, tally: dict[str, int]) -> None:
    """Counts filtered searches with fewer than K hits, none, and hits outside the filter (the
    speaker filter is case-insensitive in the product: "Mr. LANGE" also finds "Mr. Lange")."""
    lo, hi = date_bounds(f.since)[0], date_bounds(f.until)[1]
    tally["short"] += len(hits) < K
    tally["empty"] += not hits
    for h in hits:
        day = int(h.date[:10].replace("-", "")) if h.date else 0
        tally["violations"] += h.speaker.lower() != f.speaker.lower() or not lo <= day <= hi


def check_answer(lib: Any, answer: Any, tally: dict[str, int]) -> None:
    """Counts answers, abstentions, citations, and citations whose quote is not the stored text."""
    tally["answers"] += 1
    tally["abstained"] += bool(answer.abstained)
    for c in answer.citations:
        tally["citations"] += 1
        doc = lib.document(c.doc_id)
        tally["bad_quotes"] += doc is None or doc.text[c.char_start:c.char_end] != c.quote


def forget_speakers(store: Any) -> None:
    """Drop the store's cached speaker list, if this version of `rag.store.store.Store` keeps one."""
    if hasattr(store, "_speakers"):
        store._speakers = None


def time_speakers(lib: Any, repeats: int, name: str) -> dict[str, Any]:
    """`store.speakers()` alone, as its GROUP BY over every chunk row (cache dropped before each
    call) and as a search or ask meets it (the store's own cache, if any, kept); and
    `resolve_speakers([name])`, which `Library.search` runs for a speaker filter."""
    uncached, cached, resolve = [], [], []
    for _ in range(repeats):
        forget_speakers(lib.store)
        t0 = time.perf_counter()
        found = lib.store.speakers()
        uncached.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        lib.store.speakers()
        cached.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        lib.resolve_speakers([name])
        resolve.append((time.perf_counter() - t0) * 1000)
    return {"uncached": percentiles(uncached), "speakers": percentiles(cached),
            "resolve_speakers": percentiles(resolve), "distinct": len(found),
            "store_caches": hasattr(lib.store, "_speakers")}


def split_questions(questions: list[str], warmup: int, n_search: int, n_slow: int) -> dict[str, list[str]]:
    """Disjoint question sets: warm-up, search columns, rerank, ask (so that the rerank and ask
    columns do not reuse each other's cached sentence vectors); n_slow must not exceed n_search."""
    need = warmup + n_search + 2 * n_slow
    if len(questions) < need:
        raise ValueError(f"need {need} questions, have {len(questions)}")
    if n_slow > n_search:
        raise ValueError("the ask questions are interleaved with the search ones: n_slow <= n_search")
    a, b = warmup, warmup + n_search
    return {"warmup": questions[:a], "search": questions[a:b], "rerank": questions[b:b + n_slow],
            "ask": questions[b + n_slow:b + 2 * n_slow]}


def measure(data_dir: Path, questions: list[str], speakers: list[str], seed: int = 13, warmup: int = 5,
            n_search: int = 100, n_slow: int = 50, speaker_repeats: int = 10,
            embedder: Any = None) -> dict[str, Any]:
    """Open the data dir as `rag serve` does and time the four columns end to end."""
    from rag.answer.extractive import mentioned_speakers
    from rag.answer.rerank import make_reranker
    from rag.library import Library
    from rag.settings import Settings

    sets = split_questions(questions, warmup, n_search, n_slow)
    out: dict[str, Any] = {"rss_start": proc_status(), "load_start": list(os.getloadavg()), "warmup": warmup}
    settings = Settings(data_dir=data_dir, progress=False)
    t0 = time.perf_counter()
    lib = Library(settings, embedder=embedder)
    out["open_s"] = time.perf_counter() - t0
    out["rss_open"] = proc_status()
    try:
        t0 = time.perf_counter()
        present = {s for s, _ in lib.store.speakers()}
        out["first_speakers_ms"] = (time.perf_counter() - t0) * 1000
        filters = make_filters(speakers, n_search, seed, present)
        t0 = time.perf_counter()
        lib.search(sets["warmup"][0], k=K)
        out["first_query_s"] = time.perf_counter() - t0  # loads the model unless it was passed in
        for q, f in zip(sets["warmup"], make_filters(speakers, warmup, seed + 7, present)):
            lib.search(q, k=K)
            lib.search(q, k=K, speaker=[f.speaker], since=f.since, until=f.until)
        lib.ask(sets["warmup"][0])
        out["rss_warm"] = proc_status()
        out.update(time_interleaved(lib, sets, filters))
        out["rss_queries"] = proc_status()
        out["store_speakers"] = time_speakers(lib, speaker_repeats, filters[0].speaker)
        known = [s for s, _ in lib.store.speakers()]
        out["ask_tally"]["named_speaker"] = sum(bool(mentioned_speakers(q, known)) for q in sets["ask"])
        t0 = time.perf_counter()
        out["stats"] = {k: v for k, v in lib.stats().items() if k in ("documents", "chunks", "speakers", "index")}
        out["stats_s"] = time.perf_counter() - t0
        embedder = lib.embedder
    finally:
        lib.close()
    t0 = time.perf_counter()
    ranked = Library(settings, embedder=embedder, reranker=make_reranker("maxsim", embedder))
    out["reopen_rerank_s"] = time.perf_counter() - t0
    try:
        ranked.search(sets["warmup"][-1], k=K)
        column = Column()
        with ModelMeter(embedder) as meter:
            for q in sets["rerank"]:
                column.time(meter, lambda: ranked.search(q, k=K))
        out["rerank"] = column.summary()
    finally:
        ranked.close()
    out["rss_end"] = proc_status()
    out["load_end"] = list(os.getloadavg())
    return out


def time_interleaved(lib: Any, sets: dict[str, list[str]], filters: list[FilterSpec]) -> dict[str, Any]:
    """Per question: plain search, filtered search and (for the first len(ask set)) an ask on
    another question, one after the other, so that a change of load on the shared machine hits
    the three columns alike."""
    cols = {"hybrid": Column(), "hybrid+filter": Column(), "ask": Column()}
    tally = {"short": 0, "empty": 0, "violations": 0}
    answers = {"answers": 0, "abstained": 0, "citations": 0, "bad_quotes": 0}
    with ModelMeter(lib.embedder) as meter:
        for i, q in enumerate(sets["search"]):
            f = filters[i]
            cols["hybrid"].time(meter, lambda: lib.search(q, k=K))
            hits = cols["hybrid+filter"].time(
                meter, lambda: lib.search(q, k=K, speaker=[f.speaker], since=f.since, until=f.until))
            check_filtered(f, hits, tally)
            if i < len(sets["ask"]):
                question = sets["ask"][i]
                check_answer(lib, cols["ask"].time(meter, lambda: lib.ask(question)), answers)
    return {**{name: c.summary() for name, c in cols.items()}, "filter_tally": tally, "ask_tally": answers}


# -- report ---------------------------------------------------------------------------------------
def size_label(n: int) -> str:
    """10000 -> 10k, 1000000 -> 1M, 300 -> 300."""
    if n >= 1000000 and n % 1000000 == 0:
        return f"{n // 1000000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def _pp(col: dict[str, Any], part: str = "total") -> str:
    c = col[part]
    return f"{c['p50']:.1f} / {c['p95']:.1f}"


def _model(col: dict[str, Any]) -> str:
    return f"{_pp(col, 'model')} ({col['model_calls']:.1f} calls of `embed` per call)"


def _gb(mb: float) -> str:
    return f"{mb:,.0f}"


def table_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, value) rows of one size."""
    b, m = r["build"], r["measure"]
    sp = m["store_speakers"]
    rows = [
        ("index settings", f"quantization {b['quantization']}, HNSW m {b['hnsw_m']} / ef_construct "
                           f"{b['hnsw_ef_construct']}"),
        ("chunks (lib.stats) / documents / speakers", f"{m['stats']['chunks']:,} / {m['stats']['documents']:,} / "
                                                    f"{m['stats']['speakers']:,}"),
        ("search hybrid p50 / p95 ms", _pp(m["hybrid"])),
        ("  of which embedding model p50 / p95 ms", _model(m["hybrid"])),
        ("  search minus model p50 / p95 ms", _pp(m["hybrid"], "rest")),
        ("search hybrid+filter p50 / p95 ms", _pp(m["hybrid+filter"])),
        ("  of which embedding model p50 / p95 ms", _model(m["hybrid+filter"])),
        ("  search+filter minus model p50 / p95 ms", _pp(m["hybrid+filter"], "rest")),
        ("search+rerank (maxsim) p50 / p95 ms", _pp(m["rerank"])),
        ("  of which embedding model p50 / p95 ms", _model(m["rerank"])),
        ("  search+rerank minus model p50 / p95 ms", _pp(m["rerank"], "rest")),
        ("ask (extractive) p50 / p95 ms", _pp(m["ask"])),
        ("  of which embedding model p50 / p95 ms", _model(m["ask"])),
        ("  ask minus model p50 / p95 ms", _pp(m["ask"], "rest")),
        ("store.speakers() GROUP BY, uncached: first call after open / p50 / p95 ms",
         f"{m.get('first_speakers_ms', float('nan')):.1f} / {sp['uncached']['p50']:.1f} / "
         f"{sp['uncached']['p95']:.1f}"),
        ("store.speakers() as searches meet it (store's cache) p50 / p95 ms",
         f"{sp['speakers']['p50']:.2f} / {sp['speakers']['p95']:.2f}"),
        ("resolve_speakers([name]) p50 / p95 ms",
         f"{sp['resolve_speakers']['p50']:.2f} / {sp['resolve_speakers']['p95']:.2f}"),
        ("torch threads in the measuring process", str(m.get("torch_threads", "default"))),
        ("RSS after open / after search+ask / after rerank (reopened) / peak MB",
         f"{_gb(m['rss_open']['VmRSS'])} / {_gb(m.get('rss_queries', {}).get('VmRSS', float('nan')))} / "
         f"{_gb(m['rss_end']['VmRSS'])} / {_gb(m['rss_end']['VmHWM'])}"),
        ("open s (Library(settings)) / first query s", f"{m['open_s']:.1f} / {m['first_query_s']:.1f}"),
        ("build s / optimize s", f"{b['build_s']:.0f} / {b['optimize_s']:.0f}"),
        ("passages outside an HNSW graph before / after optimize",
         f"{b['optimize']['unindexed_before']:,} / {b['optimize']['unindexed_after']:,}"),
        ("build process peak RSS MB", _gb(b["rss_end"]["VmHWM"])),
        ("disk MB (store + shard)", f"{b['disk_mb']:,.0f} ({b['store_mb']:,.0f} + {b['shard_mb']:,.0f})"),
        ("questions timed (search / rerank / ask)",
         f"{m['hybrid']['total']['n']} / {m['rerank']['total']['n']} / {m['ask']['total']['n']}"),
        ("filtered searches with < 10 hits / none / hits outside the filter",
         f"{m['filter_tally']['short']} / {m['filter_tally']['empty']} / {m['filter_tally']['violations']}"),
        ("ask: abstained / citations / quotes not matching the stored text / questions naming a known "
         "speaker (a second search)",
         f"{m['ask_tally']['abstained']} / {m['ask_tally']['citations']} / {m['ask_tally']['bad_quotes']} / "
         f"{m['ask_tally'].get('named_speaker', 0)}"),
        ("load average during the queries (start -> end)",
         f"{m['load_start'][0]:.1f} -> {m['load_end'][0]:.1f}"),
    ]
    return rows


def size_table(r: dict[str, Any]) -> list[str]:
    """The markdown table of one size."""
    lines = [f"**{r['size']:,} chunks**", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in table_rows(r)]
    return lines + [""]


def targets(by: dict[int, dict[str, Any]], other: dict[int, dict[str, Any]] | None = None) -> list[str]:
    """The issue's targets against the measured numbers (and the second measurement's, if any)."""
    def search(size: int, limit: float) -> str:
        r = by.get(size)
        if r is None:
            return f"not measured ({size:,} not run)"
        col = r["measure"]["hybrid+filter"]
        p95, rest = col["total"]["p95"], col["rest"]["p95"]
        text = (f"end to end p95 {p95:.1f} ms: {'met' if p95 <= limit else 'NOT met'}; without the query "
                f"embedding p95 {rest:.1f} ms: {'met' if rest <= limit else 'NOT met'}")
        o = (other or {}).get(size)
        if o is not None:
            p95 = o["measure"]["hybrid+filter"]["total"]["p95"]
            text += (f"; with torch threads {o['measure'].get('torch_threads')} end to end p95 {p95:.1f} ms: "
                     f"{'met' if p95 <= limit else 'NOT met'}")
        return text

    lines = [f"- hybrid filtered search p95 <= 50 ms at 100k: {search(100000, 50)}",
             f"- hybrid filtered search p95 <= 100 ms at 1M: {search(1000000, 100)}"]
    r = by.get(1000000)
    if r is None:
        lines.append("- resident memory <= 4 GB at 1M (serving process): not measured (1M not run)")
    else:
        m = r["measure"]
        after = m.get("rss_queries", m["rss_end"])["VmRSS"]
        peak = m["rss_end"]["VmHWM"]
        lines.append(f"- resident memory <= 4 GB at 1M (serving process, model included): RSS after the searches "
                     f"and asks {after / 1024:.2f} GB, peak {peak / 1024:.2f} GB: "
                     f"{'met' if peak <= 4096 else 'NOT met'}")
    return lines


def compare_table(base: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[str]:
    """Latency rows of a second measurement (e.g. another torch thread count) beside the first."""
    by = {r["size"]: r for r in base}
    lines = ["| chunks | torch threads | hybrid p50/p95 ms | of which model | hybrid+filter p50/p95 | of which model | "
             "rerank p50/p95 | ask p50/p95 | load (1 min) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(other, key=lambda r: r["size"]):
        for x in (by.get(r["size"]), r):
            if x is None:
                continue
            m = x["measure"]
            lines.append(f"| {x['size']:,} | {m.get('torch_threads', 'default')} | {_pp(m['hybrid'])} | "
                         f"{_pp(m['hybrid'], 'model')} | {_pp(m['hybrid+filter'])} | {_pp(m['hybrid+filter'], 'model')} | "
                         f"{_pp(m['rerank'])} | {_pp(m['ask'])} | {m['load_start'][0]:.1f} -> {m['load_end'][0]:.1f} |")
    return lines + [""]


def report(results: list[dict[str, Any]], command: str, compare: list[dict[str, Any]] | None = None) -> str:
    """The RESULTS.md section."""
    first, last = results[0], results[-1]
    mach = first["machine_start"]
    meta = first["meta"]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(last["finished"]))
    sizes = " / ".join(size_label(r["size"]) for r in results)
    b0, m0 = first["build"], first["measure"]
    lines = [
        f"## Search, rerank and ask at {sizes} chunks through Library ({date})", "",
        "Written by `bench/scale_library.py`.", "",
        f"- command: `{command}` (each size: build in one subprocess, measure in a fresh one)",
        f"- machine: nproc {mach['nproc']}, {mach['ram_gb']} GB RAM, {mach['cpu']}; **shared** with another "
        f"engineer's benchmarks, so latencies are upper bounds for an idle machine; load average (1/5/15 min) "
        f"at start {'/'.join(f'{x:.1f}' for x in mach['load'])}, at end "
        f"{'/'.join(f'{x:.1f}' for x in last['machine_end']['load'])}",
        f"- packages: {first['versions']}",
        f"- data: the {meta['source_docs']:,} SciFact documents / {meta['source_chunks']:,} chunks of "
        f"`{meta['src']}` (store rows and the MiniLM dense vectors stored in its shard), reused: copy 0 keeps "
        f"the original id and vectors, copy r >= 1 is the document under id `<orig>~r` with each chunk's dense "
        f"vector + N(0, {b0['sigma']}) per dimension, re-normalised; texts are the originals', so the BM25 "
        f"vectors (computed by `EdgeVectorStore.add` from the text, as at ingest) repeat ~size/14k times. "
        f"Every copy gets a speaker (document, turns, chunks) drawn Zipf-like (s 0.8) from the "
        f"{len(meta['speakers'])} most frequent speaker names of `{meta['ungdc']}` and a date uniform over "
        f"1990-2025; copies are added until the chunk count is the size (the last document cut short). "
        f"No embedding model ran during the build.",
        f"- build: a data dir made by `Library(Settings(data_dir, quantization=..., optimize_after=0))`, "
        f"written in batches of ~{b0['batch_chunks']} chunks as `Ingestor._flush` writes them (store.mark_pending, "
        f"vectors.add(chunk_to_node(...)), vectors.flush(), store.put_documents), under the writer lock; "
        f"then `lib.optimize()`",
        f"- measure: a fresh process opens the data dir with `Library(Settings(data_dir=...))` (as `rag serve`), "
        f"warms up with {m0['warmup']} questions (search, filtered search, one ask), then per question "
        f"times `lib.search(q, k=10)` (hybrid, no reranker), `lib.search(q, k=10, speaker=[name], "
        f"since='YYYY', until='YYYY')` and, for the first {m0['ask']['total']['n']}, `lib.ask(q2)` (extractive, "
        f"on another question) one after the other ({m0['hybrid']['total']['n']} questions), so that load "
        f"changes on the shared machine hit these columns alike; then closes it, reopens with "
        f"`Library(settings, reranker=make_reranker('maxsim', embedder))` and times `lib.search(q, k=10)` over "
        f"{m0['rerank']['total']['n']} further questions. Questions: `{meta['queries_file']}` in file order, "
        f"disjoint sets for warm-up, search, rerank and ask (so rerank and ask do not reuse each other's cached "
        f"sentence vectors). Filters: one speaker drawn with the build's weights among the names present in "
        f"the collection (an absent name is refused by the product), 1-10 whole years in 1990-2025",
        "- \"of which embedding model\": time inside `Embedder.embed` during the call (query and, for rerank and "
        "ask, sentence embeddings), measured by wrapping that method on the instance; \"minus model\" is the rest "
        "(Qdrant, SQLite, Python)",
        "- RSS: VmRSS / VmHWM of the measuring process (the model included); build peak: VmHWM of the building "
        "process",
        "",
    ]
    for r in results:
        lines += size_table(r)
    if compare:
        lines += ["The same measurement again with only the torch thread count of the measuring process "
                  "changed (same data dirs, a later fresh process):", "", *compare_table(results, compare)]
    by = {r["size"]: r for r in results}
    lines += ["Targets:", *targets(by, {r["size"]: r for r in compare or []}), ""]
    sp = "; ".join(f"{r['size']:,}: {r['measure']['store_speakers']['uncached']['p50']:.1f} ms uncached, "
                   f"{r['measure']['store_speakers']['speakers']['p50']:.2f} ms as searches meet it "
                   f"({r['measure']['store_speakers']['distinct']} speakers)" for r in results)
    lines += [f"`Store.speakers()` alone (p50): {sp}. `Library.search` calls it on every search with a speaker "
              f"(via `resolve_speakers`) and `rag.answer.asking.retrieve` on every ask without one; \"as searches meet "
              f"it\" is with the store's own cache of the list, where the store has one.", ""]
    return "\n".join(lines)


# -- driver -----------------------------------------------------------------------------------------
def build_worker(args: argparse.Namespace, size: int) -> None:
    """Subprocess: build one size, write build-N.json."""
    cache = Path(args.work) / "cache"
    meta = json.loads((cache / "meta.json").read_text())
    with open(cache / "source.pkl", "rb") as fh:
        source = pickle.load(fh)
    quant = "int8" if size in args.int8_at else "none"
    out = build(data_dir_of(args, size), size, source, meta["speakers"], args.seed, args.sigma, quant,
                args.batch)
    (Path(args.work) / f"build-{size}.json").write_text(json.dumps(out, indent=1))


def measure_worker(args: argparse.Namespace, size: int) -> None:
    """Subprocess: measure one built size, write measure-N[tag].json."""
    meta = json.loads((Path(args.work) / "cache" / "meta.json").read_text())
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    out = measure(data_dir_of(args, size), meta["queries"], meta["speakers"], args.seed, n_search=args.n_search,
                  n_slow=args.n_slow)
    out["torch_threads"] = args.torch_threads or "default"
    (Path(args.work) / f"measure-{size}{args.tag}.json").write_text(json.dumps(out, indent=1))


def data_dir_of(args: argparse.Namespace, size: int) -> Path:
    """Where one size's data dir lives."""
    return Path(args.work) / f"data-{size}"


def run_size(args: argparse.Namespace, size: int, command: str) -> dict[str, Any] | None:
    """Build (unless --skip-build) and measure one size in subprocesses; write result-N.json."""
    work = Path(args.work)
    base = [sys.executable, str(Path(__file__).resolve()), "--work", str(work), "--seed", str(args.seed),
            "--sigma", str(args.sigma), "--batch", str(args.batch), "--n-search", str(args.n_search),
            "--n-slow", str(args.n_slow), "--int8-at", *map(str, args.int8_at)]
    start = machine()
    if not args.skip_build:
        print(f"== build {size:,}", flush=True)
        if subprocess.call(base + ["--build-worker", str(size)]) != 0:
            return None
    print(f"== measure {size:,}{args.tag}", flush=True)
    extra = ["--tag", args.tag] + (["--torch-threads", str(args.torch_threads)] if args.torch_threads else [])
    if subprocess.call(base + extra + ["--measure-worker", str(size)]) != 0:
        return None
    result = {"size": size, "command": command, "machine_start": start, "machine_end": machine(),
              "finished": time.time(), "versions": versions(),
              "meta": {k: v for k, v in json.loads((work / "cache" / "meta.json").read_text()).items()
                       if k != "queries"},  # the questions stay in cache/meta.json
              "build": json.loads((work / f"build-{size}.json").read_text()),
              "measure": json.loads((work / f"measure-{size}{args.tag}.json").read_text()), "tag": args.tag}
    (work / f"result-{size}{args.tag}.json").write_text(json.dumps(result, indent=1))
    if size >= 1000000 and not args.keep:
        shutil.rmtree(data_dir_of(args, size), ignore_errors=True)
    return result


def load_results(work: Path, sizes: list[int], tag: str) -> list[dict[str, Any]]:
    """The result-N<tag>.json files of these sizes that exist."""
    files = [work / f"result-{n}{tag}.json" for n in sizes]
    return [json.loads(f.read_text()) for f in files if f.exists()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default="/tmp/evruns/scifact-data", help="data dir whose documents are copied")
    ap.add_argument("--ungdc", default="/work/shared/data/ungdc", help="*.jsonl.gz (or a folder) with speaker names")
    ap.add_argument("--queries", default="/work/shared/data/scifact/queries_train.jsonl")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000, 1000000])
    ap.add_argument("--int8-at", type=int, nargs="*", default=[1000000], help="sizes built with int8 quantization")
    ap.add_argument("--n-search", type=int, default=100, help="questions per search column")
    ap.add_argument("--n-slow", type=int, default=50, help="questions for the rerank and the ask column each")
    ap.add_argument("--sigma", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=1000, help="chunks written per batch")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--torch-threads", type=int, help="torch.set_num_threads in the measuring process "
                                                      "(default: torch's own choice, as `rag serve`)")
    ap.add_argument("--tag", default="", help="suffix of the measure/result file names (a second measurement)")
    ap.add_argument("--command", help="with --report-only: the commands to state (default: the stored ones)")
    ap.add_argument("--notes", help="a markdown file appended to the section (what was noticed)")
    ap.add_argument("--compare-tag", help="with the report: add the latency rows of result-N<TAG>.json")
    ap.add_argument("--work", default=str(WORK))
    ap.add_argument("--keep", action="store_true", help="keep the 1M data dir")
    ap.add_argument("--skip-build", action="store_true", help="measure data dirs built by an earlier run")
    ap.add_argument("--reprepare", action="store_true", help="read the source data again")
    ap.add_argument("--report-only", action="store_true", help="write the section from result-N.json files")
    ap.add_argument("--append", help="append the section to this markdown file")
    ap.add_argument("--build-worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--measure-worker", type=int, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Prepare, then build and measure each size, then print (and append) the report."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parse_args(argv)
    if args.build_worker:
        return build_worker(args, args.build_worker)
    if args.measure_worker:
        return measure_worker(args, args.measure_worker)
    work = Path(args.work)
    command = " ".join([".venv/bin/python", "bench/scale_library.py", *(argv or sys.argv[1:])])
    if not args.report_only:
        cache = work / "cache"
        if args.reprepare or not (cache / "meta.json").exists():
            prepare(Path(args.src), Path(args.ungdc), Path(args.queries),
                    5 + args.n_search + 2 * args.n_slow, cache)
        for size in args.sizes:
            if run_size(args, size, command) is None:
                print(f"{size:,}: the run failed", flush=True)
    results = load_results(work, args.sizes, "")
    if not results:
        raise SystemExit("no results to report")
    compare = load_results(work, args.sizes, args.compare_tag) if args.compare_tag else []
    commands = args.command or "`, then `".join(dict.fromkeys(r["command"] for r in results + compare))
    text = report(results, commands, compare)
    if args.notes:
        text += "\n" + Path(args.notes).read_text().strip() + "\n"
    print(text)
    if args.append:
        with open(args.append, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
