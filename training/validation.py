"""The validation retrieval task on held-out documents, and the rankings compared on it.

Each held-out query must find a passage of its own answer among all answer passages of the
held-out documents. Rankings: BM25, a dense model, their reciprocal-rank fusion as the index
does it (top `PREFETCH` of each, k=60), and a cross-encoder over the fused top-k whose score is
fused with the retrieval evidence. The validation questions are split in two halves by a hash:
fusion weights are tuned on `dev` and reported on `test`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from training.bm25 import Bm25Index
from training.data import question_key
from training.mining import Example, Passage, sample

PREFETCH = 100
RRF_K = 60


@dataclass
class Task:
    """Held-out passages, sampled held-out queries and, per query, the rows of its relevant passages."""

    passages: list[Passage]
    queries: list[Example]
    relevant: list[set[int]]

    def half(self, i: int) -> str:
        """`dev` or `test` for query i (by a hash of its question, so forms stay together)."""
        digest = hashlib.sha256(question_key(self.queries[i]).encode()).hexdigest()
        return "dev" if int(digest[:8], 16) % 2 == 0 else "test"


def build_task(examples: Sequence[Example], passages: dict[str, Passage], questions: int, seed: int) -> Task:
    """The task over every held-out passage: `questions` held-out pm_transcripts questions (all
    their forms, sampled with `seed`), every held-out question of the other corpora and every
    held-out QMSum query."""
    pool = [p for p in passages.values() if p.split == "val"]
    pool.sort(key=lambda p: p.pid)
    row = {p.pid: i for i, p in enumerate(pool)}
    held = [e for e in examples if e.split == "val"]
    keys = sorted({question_key(e) for e in held if e.source == "pm_transcripts"})
    chosen = set(sample(keys, questions, seed))
    queries = [e for e in held if e.source != "pm_transcripts" or question_key(e) in chosen]
    relevant = [{row[r] for r in e.relevant if r in row} for e in queries]
    keep = [i for i, r in enumerate(relevant) if r]
    return Task(pool, [queries[i] for i in keep], [relevant[i] for i in keep])


def metrics(rankings: Sequence[Sequence[int]], relevant: Sequence[set[int]]) -> dict[str, float]:
    """MRR@10 and recall@5/10/20/50 (share of queries with a relevant passage in the top k)."""
    n = max(1, len(rankings))
    mrr = 0.0
    hits = {5: 0, 10: 0, 20: 0, 50: 0}
    for ranked, rel in zip(rankings, relevant):
        first = next((r for r, row in enumerate(ranked[:50]) if row in rel), None)
        if first is not None:
            if first < 10:
                mrr += 1.0 / (first + 1)
            for k in hits:
                hits[k] += first < k
    out = {"mrr@10": mrr / n}
    out.update({f"r@{k}": v / n for k, v in hits.items()})
    out["n"] = len(rankings)
    return out


def bm25_rankings(index: Bm25Index, queries: Sequence[str], depth: int = PREFETCH) -> list[list[int]]:
    """Top `depth` rows by BM25 per query."""
    return [[row for row, _ in index.search(q, depth)] for q in queries]


def dense_rankings(query_vectors: np.ndarray, passage_vectors: np.ndarray, depth: int = PREFETCH) -> list[list[int]]:
    """Top `depth` rows by cosine (vectors are L2-normalised) per query."""
    out = []
    for start in range(0, len(query_vectors), 256):
        sims = query_vectors[start:start + 256] @ passage_vectors.T
        for s in sims:
            top = np.argpartition(-s, min(depth, len(s) - 1))[:depth]
            out.append([int(i) for i in top[np.lexsort((top, -s[top]))]])
    return out


def rrf(*rankings: Sequence[int], k: int = RRF_K, weights: Sequence[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion (1 / (k + rank), rank from 1) of several rankings, best first."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, row in enumerate(ranking, 1):
            scores[row] = scores.get(row, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))


def _minmax(x: np.ndarray) -> np.ndarray:
    span = float(x.max() - x.min())
    return (x - x.min()) / span if span > 0 else np.zeros_like(x)


def fuse_rerank(fused: Sequence[tuple[int, float]], ce: Sequence[float], depth: int, mode: str,
                weight: float) -> list[int]:
    """The fused top `depth` reordered by the cross-encoder's scores `ce` (one per candidate)
    combined with the retrieval evidence, then the rest in fused order.

    mode `rrf`: 1/(60 + retrieval rank) + weight/(60 + cross-encoder rank);
    mode `norm`: (1 - weight) * minmax(fused score) + weight * minmax(cross-encoder score)."""
    head = list(fused[:depth])
    scores = np.asarray(ce[:len(head)], dtype=np.float64)
    if mode == "rrf":
        ce_rank = np.empty(len(head))
        ce_rank[np.argsort(-scores, kind="stable")] = np.arange(1, len(head) + 1)
        combined = 1.0 / (RRF_K + np.arange(1, len(head) + 1)) + weight / (RRF_K + ce_rank)
    elif mode == "norm":
        combined = (1 - weight) * _minmax(np.asarray([s for _, s in head])) + weight * _minmax(scores)
    else:
        raise ValueError(f"unknown fusion mode {mode!r}")
    order = np.argsort(-combined, kind="stable")
    return [head[i][0] for i in order] + [row for row, _ in fused[depth:]]


def evaluate_table(task: Task, rankings: dict[str, list[list[int]]],
                   select: Callable[[int], bool] = lambda i: True) -> dict[str, dict[str, dict[str, float]]]:
    """method -> group -> metrics over the selected queries; groups: all, each query form
    (full, first, short, qmsum) and the kremlin_en questions on their own (`kremlin`)."""
    groups: dict[str, Callable[[Example], bool]] = {"all": lambda q: True}
    for form in sorted({q.form for q in task.queries}):
        groups[form] = lambda q, f=form: q.form == f
    groups["kremlin"] = lambda q: q.source == "kremlin_en"
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, ranked in rankings.items():
        table[name] = {}
        for group, keep in groups.items():
            idx = [i for i, q in enumerate(task.queries) if select(i) and keep(q)]
            table[name][group] = metrics([ranked[i] for i in idx], [task.relevant[i] for i in idx])
    return table
