"""Run the validation task for BM25, MiniLM, fine-tuned bi-encoders and cross-encoders, tune the
cross-encoder's fusion on the dev half and report on the test half."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.bm25 import Bm25Index
from training.validation import (PREFETCH, Task, bm25_rankings, dense_rankings, evaluate_table,
                                 fuse_rerank, metrics, rrf)

CE_DEPTHS = (20, 30, 50)
RRF_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, 1000.0)
NORM_WEIGHTS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def query_embedder(weights: Path | None):
    """The index's Embedder (fp32), with fine-tuned weights when given."""
    from rag.models.embedding import Embedder
    from rag.models.relevance import load_bi_encoder_module

    embedder = Embedder(precision="fp32")
    if weights is not None:
        embedder._model = load_bi_encoder_module(weights, None)
    return embedder


def run(task: Task, cache: Path, dense: dict[str, tuple[Path | None, Path | None]], ce: dict[str, Path],
        log: Callable[[str], None], adapters: dict[str, Path] | None = None) -> dict:
    """All rankings and the tables; returns a JSON-ready report. `dense` maps a name to (query
    weights, passage weights), None meaning all-MiniLM-L6-v2 (whose passage vectors the index holds)."""
    from training.vectors import VectorCache

    texts = [p.text for p in task.passages]
    queries = [q.query for q in task.queries]
    report: dict = {"passages": len(texts), "queries": len(queries), "query_embed_ms": {}}
    t = time.perf_counter()
    index = Bm25Index(texts)
    ranks: dict[str, list[list[int]]] = {"bm25": bm25_rankings(index, queries)}
    report["bm25_ms_per_query"] = 1000 * (time.perf_counter() - t) / max(1, len(queries))
    log(f"bm25: {time.perf_counter() - t:.0f} s")
    for name, (q_weights, p_weights) in {"minilm": (None, None), **dense}.items():
        p_tag = "minilm" if p_weights is None else name
        p_cache = VectorCache(cache / p_tag)
        if p_cache.missing(texts):
            p_cache.fill(texts, query_embedder(p_weights).embed, log, "held-out")
        q_cache = VectorCache(cache / f"{name}-queries")
        if q_cache.missing(queries):
            t = time.perf_counter()
            todo = len(q_cache.missing(queries))
            q_cache.fill(queries, query_embedder(q_weights).embed, log, "queries")
            report["query_embed_ms"][name] = 1000 * (time.perf_counter() - t) / todo
        ranks[name] = dense_rankings(q_cache.matrix(queries), p_cache.matrix(texts))
        ranks[f"rrf(bm25,{name})"] = [[r for r, _ in rrf(b, d)][:PREFETCH] for b, d in zip(ranks["bm25"], ranks[name])]
    for name, path in (adapters or {}).items():
        from safetensors.numpy import load_file

        from training.adapter import apply_adapter

        weights = load_file(str(path))
        t = time.perf_counter()
        qv = apply_adapter(VectorCache(cache / "minilm-queries").matrix(queries),
                           weights["adapter.weight"].astype(np.float32), weights["adapter.bias"].astype(np.float32))
        report.setdefault("adapter_ms_per_query", {})[name] = 1000 * (time.perf_counter() - t) / max(1, len(queries))
        ranks[name] = dense_rankings(qv, VectorCache(cache / "minilm").matrix(texts))
        ranks[f"rrf(bm25,{name})"] = [[r for r, _ in rrf(b, d)][:PREFETCH] for b, d in zip(ranks["bm25"], ranks[name])]
        dense[name] = (path, None)
    dense_names = ["minilm", *dense]
    for name in ce:
        for dense_name in dense_names:
            ranks.update(rerank_all(task, ranks, dense_name, name, ce[name], cache, log, report))
    report["dev"] = evaluate_table(task, ranks, lambda i: task.half(i) == "dev")
    report["test"] = evaluate_table(task, ranks, lambda i: task.half(i) == "test")
    report["all"] = evaluate_table(task, ranks)
    return report


def rerank_all(task: Task, ranks: dict, dense_name: str, ce_name: str, weights: Path, cache: Path,
               log: Callable[[str], None], report: dict) -> dict[str, list[list[int]]]:
    """The cross-encoder over the top max(CE_DEPTHS) of `fused_name`, every depth and fusion
    tried on dev; the best on dev is kept under its own name (plus the CE order alone)."""
    from rag.models.relevance import CrossEncoder

    scorer = CrossEncoder(ce_name, weights=weights)
    depth = max(CE_DEPTHS)
    fused_name = f"rrf(bm25,{dense_name})"
    path = cache / f"ce-{ce_name}-over-{dense_name}.json"
    scores: dict[str, list[float]] = json.loads(path.read_text()) if path.is_file() else {}
    fused_all = [rrf(ranks["bm25"][i], ranks[dense_name][i]) for i in range(len(task.queries))]
    start, done = time.perf_counter(), 0
    for i, q in enumerate(task.queries):
        if q.qid in scores:
            continue
        rows = [r for r, _ in fused_all[i][:depth]]
        scores[q.qid] = scorer.score(q.query, [task.passages[r].text for r in rows])
        done += 1
        if done % 50 == 0:
            rate = done / (time.perf_counter() - start)
            log(f"ce {ce_name} over {fused_name}: {done} queries ({rate * depth:.1f} pairs/s, "
                f"{1000 / rate:.0f} ms/query at depth {depth})")
            path.write_text(json.dumps(scores))
    path.write_text(json.dumps(scores))
    out: dict[str, list[list[int]]] = {}
    dev = [i for i in range(len(task.queries)) if task.half(i) == "dev"]
    best: tuple[float, str, int, float] = (-1.0, "", 0, 0.0)
    tried = []
    for k in CE_DEPTHS:
        for mode, grid in (("rrf", RRF_WEIGHTS), ("norm", NORM_WEIGHTS)):
            for w in grid:
                ranked = [fuse_rerank(fused_all[i], scores[task.queries[i].qid], k, mode, w)[:PREFETCH] for i in dev]
                m = metrics(ranked, [task.relevant[i] for i in dev])["mrr@10"]
                tried.append({"depth": k, "mode": mode, "weight": w, "dev_mrr@10": m})
                if m > best[0]:
                    best = (m, mode, k, w)
    _, mode, k, w = best
    report.setdefault("ce_fusion", {})[f"{ce_name} over {fused_name}"] = {"best": {"mode": mode, "depth": k, "weight": w},
                                                                          "tried": tried}
    label = f"ce[{ce_name}]({fused_name},k={k},{mode} w={w})"
    out[label] = [fuse_rerank(fused_all[i], scores[q.qid], k, mode, w)[:PREFETCH] for i, q in enumerate(task.queries)]
    out[f"ce-only[{ce_name}]({fused_name},k=50)"] = [
        fuse_rerank(fused_all[i], scores[q.qid], 50, "norm", 1.0)[:PREFETCH] for i, q in enumerate(task.queries)]
    log(f"{label}: dev mrr@10 {best[0]:.4f}")
    return out


def markdown(report: dict, half: str = "test") -> str:
    """The results of one half as a Markdown table (MRR@10 and R@5 per query form)."""
    table = report[half]
    forms = list(next(iter(table.values())).keys())
    head = "| method | " + " | ".join(f"{f} MRR@10 | {f} R@5" for f in forms) + " |"
    sep = "|---|" + "---|---|" * len(forms)
    lines = [head, sep]
    for name, row in table.items():
        cells = " | ".join(f"{row[f]['mrr@10']:.3f} | {row[f]['r@5']:.3f}" for f in forms)
        lines.append(f"| {name} | {cells} |")
    counts = ", ".join(f"{f}: {int(next(iter(table.values()))[f]['n'])}" for f in forms)
    return "\n".join(lines) + f"\n\nqueries ({half}): {counts}\n"
