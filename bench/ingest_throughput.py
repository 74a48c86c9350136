"""Ingest throughput and search latency on a real corpus, written to bench/RESULTS.md.

    .venv/bin/python bench/ingest_throughput.py ../shared/data/kremlin_en --encode-baseline --stock
    .venv/bin/python bench/ingest_throughput.py ../shared/data/ungdc --sample 400 --encode-baseline --stock

Measures, in one run: first ingest (chunks/s, share of wall time inside the embedding model),
re-ingest of the unchanged corpus, the raw `model.encode` time of the same chunk texts (the
ratio ingest/encode is the figure), optionally a stock llama-index pipeline on the same
documents (`--stock`: IngestionPipeline with its default SentenceSplitter, HuggingFaceEmbedding
of the same model with its defaults, QdrantVectorStore over qdrant-client's local mode) and our
own pipeline with older settings (`--before PRECISION:BATCH`), and search latency p50/p95
(hybrid, dense, BM25, hybrid with a speaker and date filter) over queries made from the corpus's
own titles. `--sample N` ingests every k-th record of the JSONL files so that N remain.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.library import Library  # noqa: E402
from rag.settings import Settings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def machine() -> str:
    """Cores, memory and versions, one line."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import qdrant_edge  # noqa: F401
    from importlib.metadata import version

    return (f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
            f"torch {version('torch')}, sentence-transformers {version('sentence-transformers')}, "
            f"qdrant-edge-py {version('qdrant-edge-py')}, load average at start {os.getloadavg()[0]:.2f}")


def jsonl_records(paths: list[Path]) -> list[dict]:
    """Every record of the .jsonl / .jsonl.gz files under the paths, in file order."""
    files: list[Path] = []
    for p in paths:
        files += sorted(f for f in p.rglob("*") if f.name.endswith((".jsonl", ".jsonl.gz"))) if p.is_dir() else [p]
    records = []
    for f in files:
        with (gzip.open(f, "rt", encoding="utf-8") if f.name.endswith(".gz") else f.open(encoding="utf-8")) as fh:
            records += [json.loads(line) for line in fh if line.strip()]
    return records


def write_sample(paths: list[Path], n: int, dest: Path) -> Path:
    """Every k-th record of the corpus so that n remain, as one JSONL file (records unchanged)."""
    records = jsonl_records(paths)
    step = max(1, len(records) // n)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", encoding="utf-8") as fh:
        for rec in records[::step][:n]:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return dest


def stock_pipeline(paths: list[Path], work: Path) -> dict[str, float]:
    """A stock llama-index ingest of the same records: defaults everywhere, the same model.

    Documents are built from the JSONL records (text + title/date/speaker as metadata, which
    llama-index puts in front of the text it embeds by default); IngestionPipeline with
    SentenceSplitter() (1,024-token chunks, 200 overlap) and HuggingFaceEmbedding (batch 10,
    float32); QdrantVectorStore on QdrantClient(path=...) (qdrant-client's local mode)."""
    from llama_index.core import Document as LIDocument
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    from rag.models.embedding import _minilm_path

    records = jsonl_records(paths)
    docs = [LIDocument(text=r.get("text") or "", id_=str(r.get("id")),
                       metadata={k: r[k] for k in ("title", "date", "year", "speaker") if r.get(k)})
            for r in records if (r.get("text") or "").strip()]
    t0 = time.perf_counter()
    embed = HuggingFaceEmbedding(model_name=_minilm_path(), device="cpu")
    client = QdrantClient(path=str(work / "stock-qdrant"))
    store = QdrantVectorStore(client=client, collection_name="stock")
    load = time.perf_counter() - t0
    pipeline = IngestionPipeline(transformations=[SentenceSplitter(), embed], vector_store=store)
    t0 = time.perf_counter()
    nodes = pipeline.run(documents=docs, show_progress=True)
    wall = time.perf_counter() - t0
    chars = sum(len(d.text) for d in docs)
    client.close()
    return {"docs": len(docs), "chunks": len(nodes), "seconds": wall, "model_load": load, "chars": chars}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary folder")
    parser.add_argument("--encode-baseline", action="store_true", help="also time raw model.encode")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    parser.add_argument("--sample", type=int, help="ingest every k-th JSONL record so that this many remain")
    parser.add_argument("--stock", action="store_true", help="also run a stock llama-index pipeline")
    parser.add_argument("--before", metavar="PRECISION:BATCH",
                        help="also ingest with these embedding settings into a second data dir (e.g. fp32:64)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    if args.sample:
        args.paths = [write_sample(args.paths, args.sample, data_dir.parent / f"{data_dir.name}-sample.jsonl")]
    info = machine()
    lines = [f"\n## Ingest and search: {', '.join(p.name for p in args.paths)} "
             f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n",
             f"Machine: {info}.  ",
             f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n"]

    chars = sum(len(r.get("text") or "") for r in jsonl_records(args.paths))
    with Library(Settings(data_dir=data_dir, progress=True)) as lib:
        lines.append(f"Embedding: {lib.embedder.name}, precision {lib.embedder.precision}, batch "
                     f"{lib.embedder.batch_size}, torch threads {_threads()}.\n")
        t0 = time.perf_counter()
        lib.embedder.embed(["warm up"])  # the model loads before the clock starts (load shown apart)
        lines.append(f"Model load and warm-up before the timed ingest: {time.perf_counter() - t0:.1f} s.\n")
        first = lib.ingest(args.paths)
        second = lib.ingest(args.paths, progress=False)
        stats = lib.stats()
        rows = [
            ("first ingest", f"{first.new} docs, {first.chunks} chunks, {first.seconds:.1f} s, "
             f"{first.chunks / max(first.seconds, 1e-9):.1f} chunks/s, "
             f"{chars / max(first.seconds, 1e-9) / 1000:.1f} k chars/s; "
             f"{100 * first.embed_seconds / max(first.seconds, 1e-9):.0f} % of wall time inside the model"
             + (f" (+ {first.optimize_seconds:.1f} s building the HNSW graph)" if first.optimize_seconds else "")),
            ("unchanged re-ingest", f"{second.seconds:.2f} s ({second.chunks} chunks embedded); "
             f"{first.seconds / max(second.seconds, 1e-9):.0f}× faster than the first ingest"),
        ]
        if first.failed:
            rows.append(("failures", f"{first.failed}: {first.errors[:3]}"))
        if args.encode_baseline:
            texts = [c.text for d in lib.store.doc_ids() for c in lib.store.chunks(d)]
            t0 = time.perf_counter()
            lib.embedder.embed(texts)
            encode = time.perf_counter() - t0
            rows.append(("raw model.encode of the same chunks (same model, precision, batch)",
                         f"{encode:.1f} s, {len(texts) / max(encode, 1e-9):.1f} chunks/s; "
                         f"**ingest wall / encode = {first.seconds / max(encode, 1e-9):.2f}**"))
        ours_rate = first.chunks / max(first.seconds, 1e-9)
        if args.before:
            precision, batch = args.before.split(":")
            before_dir = data_dir.parent / f"{data_dir.name}-before"
            with Library(Settings(data_dir=before_dir, progress=True, embed_precision=precision,
                                  embed_batch_size=int(batch))) as old:
                rep = old.ingest(args.paths)
            rows.append((f"our ingest with the earlier settings ({precision}, batch {batch})",
                         f"{rep.chunks} chunks, {rep.seconds:.1f} s, {rep.chunks / max(rep.seconds, 1e-9):.1f} "
                         f"chunks/s; now / then = **{ours_rate / max(rep.chunks / max(rep.seconds, 1e-9), 1e-9):.2f}x**"))
        if args.stock:
            st = stock_pipeline(args.paths, data_dir.parent / f"{data_dir.name}-stock")
            rate = st["chunks"] / max(st["seconds"], 1e-9)
            rows.append(("stock llama-index pipeline on the same records",
                         f"{st['docs']} docs, {st['chunks']} chunks, {st['seconds']:.1f} s (+ {st['model_load']:.1f} s "
                         f"model load), {rate:.1f} chunks/s, {st['chars'] / max(st['seconds'], 1e-9) / 1000:.1f} k chars/s"))
            rows.append(("ours / stock", f"chunks/s **{ours_rate / max(rate, 1e-9):.2f}x**; chars/s "
                         f"{(chars / max(first.seconds, 1e-9)) / max(st['chars'] / max(st['seconds'], 1e-9), 1e-9):.2f}x; "
                         f"wall {st['seconds'] / max(first.seconds, 1e-9):.2f}x shorter"))
        titles = [d.title for d in lib.store.iter_documents() if d.title]
        rng = random.Random(1)
        queries = [rng.choice(titles) for _ in range(args.queries)] if titles else ["press conference"]
        top = stats["top_speakers"][0]["speaker"] if stats["top_speakers"] else None
        cases = [("hybrid", {}), ("dense", {"mode": "dense"}), ("bm25", {"mode": "bm25"}),
                 ("hybrid + speaker + dates", {"speaker": top, "since": "2010", "until": "2019"})]
        lib.search("warm up", k=10)
        for name, kwargs in cases:
            times = []
            for q in queries:
                t0 = time.perf_counter()
                lib.search(q, k=10, **kwargs)
                times.append((time.perf_counter() - t0) * 1000)
            rows.append((f"search {name}, k=10",
                         f"p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms "
                         f"({len(times)} queries, {stats['chunks']} chunks)"))
        rss = int(subprocess.run(["ps", "-o", "rss=", str(os.getpid())], capture_output=True,
                                 text=True).stdout.strip() or 0) / 1024
        rows.append(("resident memory after the run", f"{rss:.0f} MB"))
    lines.append("| what | measured |\n|---|---|")
    lines += [f"| {a} | {b} |" for a, b in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(text)
    return 0


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())
