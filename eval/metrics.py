"""Ranking metrics with the BEIR / pytrec_eval definitions: nDCG, recall, MRR, precision, hit rate.

Every function takes one query's ranked document ids (best first) and its qrels
(document id -> graded relevance; rel > 0 means relevant) and returns a float in [0, 1].

Conventions shared by all of them:
- `ranked` is deduplicated first: a document retrieved twice (two chunks of one document)
  counts once, at its first (best) position;
- an empty ranking, a query without relevant documents, or k < 1 gives 0.0;
- `evaluate_run` averages only over queries that have at least one relevant document, as BEIR
  does (pytrec_eval only evaluates queries present in the qrels).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

Qrels = Mapping[str, int]
DEFAULT_KS: tuple[int, ...] = (1, 5, 10, 20, 100)


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Ids in order of first occurrence (max-pooling of chunk hits into a document ranking)."""
    seen: set[str] = set()
    out: list[str] = []
    for doc_id in ranked:
        if doc_id not in seen:
            seen.add(doc_id)
            out.append(doc_id)
    return out


def _top(ranked: Sequence[str], k: int) -> list[str]:
    return dedupe(ranked)[:max(k, 0)]


def _relevant(qrels: Qrels) -> set[str]:
    return {doc_id for doc_id, rel in qrels.items() if rel > 0}


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: sum of gain_i / log2(i + 1), positions i starting at 1."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], qrels: Qrels, k: int) -> float:
    """nDCG@k as pytrec_eval's `ndcg_cut_k`: linear gain = rel, log2 discount, ideal from qrels.

    Negative or zero grades give no gain. 0.0 when the query has no relevant document (BEIR
    drops such queries from the average; `evaluate_run` does too).
    """
    ideal = dcg(sorted((r for r in qrels.values() if r > 0), reverse=True)[:max(k, 0)])
    if ideal <= 0.0:
        return 0.0
    gains = [max(qrels.get(doc_id, 0), 0) for doc_id in _top(ranked, k)]
    return dcg(gains) / ideal


def recall_at_k(ranked: Sequence[str], qrels: Qrels, k: int) -> float:
    """Relevant documents in the top k divided by all relevant documents (rel > 0)."""
    relevant = _relevant(qrels)
    if not relevant:
        return 0.0
    return sum(1 for doc_id in _top(ranked, k) if doc_id in relevant) / len(relevant)


def precision_at_k(ranked: Sequence[str], qrels: Qrels, k: int) -> float:
    """Relevant documents in the top k divided by k (pytrec_eval's P_k: k, not the list length)."""
    if k < 1:
        return 0.0
    relevant = _relevant(qrels)
    return sum(1 for doc_id in _top(ranked, k) if doc_id in relevant) / k


def mrr_at_k(ranked: Sequence[str], qrels: Qrels, k: int) -> float:
    """1 / rank of the first relevant document within the top k; 0.0 if none there."""
    relevant = _relevant(qrels)
    for rank, doc_id in enumerate(_top(ranked, k), start=1):
        if doc_id in relevant:
            return 1.0 / rank
    return 0.0


def hit_rate_at_k(ranked: Sequence[str], qrels: Qrels, k: int) -> float:
    """1.0 if any relevant document is in the top k, else 0.0 (success@k)."""
    return 1.0 if mrr_at_k(ranked, qrels, k) > 0.0 else 0.0


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; 0.0 for no values (never divides by zero)."""
    items = list(values)
    return sum(items) / len(items) if items else 0.0


METRICS = {
    "ndcg": ndcg_at_k,
    "recall": recall_at_k,
    "precision": precision_at_k,
    "mrr": mrr_at_k,
    "hit_rate": hit_rate_at_k,
}


def evaluate_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Qrels],
                 ks: Sequence[int] = DEFAULT_KS) -> dict[str, float]:
    """Mean of every metric at every k over the queries that have a relevant document.

    Keys look like "ndcg@10", "recall@100", "mrr@10", "precision@5", "hit_rate@1"; "queries"
    holds how many queries were averaged. A judged query missing from `run` counts as an empty
    ranking (all zeros); run entries without qrels are ignored.
    """
    judged = [qid for qid, rels in qrels.items() if _relevant(rels)]
    out: dict[str, float] = {}
    for name, fn in METRICS.items():
        for k in ks:
            out[f"{name}@{k}"] = mean(fn(run.get(qid, []), qrels[qid], k) for qid in judged)
    out["queries"] = float(len(judged))
    return out
