"""Ingest throughput and search latency on a real corpus, written to bench/RESULTS.md.

    .venv/bin/python bench/ingest_throughput.py ../shared/data/kremlin_en --encode-baseline

Measures, in one run: first ingest (chunks/s, share of wall time inside the embedding model),
re-ingest of the unchanged corpus, the raw `model.encode` time of the same chunk texts (the
ratio ingest/encode is the figure), and search latency p50/p95 (hybrid, dense, BM25, hybrid with
a speaker and date filter) over queries made from the corpus's own titles.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary folder")
    parser.add_argument("--encode-baseline", action="store_true", help="also time raw model.encode")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    info = machine()
    lines = [f"\n## Ingest and search: {', '.join(p.name for p in args.paths)} "
             f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)\n",
             f"Machine: {info}.  ",
             f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n"]

    with Library(Settings(data_dir=data_dir, progress=True)) as lib:
        first = lib.ingest(args.paths)
        second = lib.ingest(args.paths, progress=False)
        stats = lib.stats()
        rows = [
            ("first ingest", f"{first.new} docs, {first.chunks} chunks, {first.seconds:.1f} s, "
             f"{first.chunks / max(first.seconds, 1e-9):.1f} chunks/s; "
             f"{100 * first.embed_seconds / max(first.seconds, 1e-9):.0f} % of wall time inside the model"),
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
            rows.append(("raw model.encode of the same chunks", f"{encode:.1f} s; ingest wall / encode = "
                         f"{first.seconds / max(encode, 1e-9):.2f}"))
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


if __name__ == "__main__":
    sys.exit(main())
