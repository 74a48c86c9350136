"""Pick the weights of hybrid search's reciprocal rank fusion (dense, BM25) on the *tuning* set
(eval/datasets/tuning.jsonl over its own collection; never reported as a result): for every
answerable question, the dense and the BM25 rankings (100 deep) are fetched once, fused offline
with each weight pair, and the share of questions with a gold passage (one overlapping a gold
quote) in the top 5 and top 10 is printed; then the adaptive fusion (rag.index.fusion): BM25's
weight the share of the query's terms its best passage holds, to the power `power`.

  python bench/fusion_weights.py --data-dir /tmp/tuning-rag
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
TUNING = ROOT / "eval" / "datasets" / "tuning.jsonl"


def fused(dense: list[str], sparse: list[str], wd: float, ws: float, k: int = 60) -> list[str]:
    """Weighted RRF of two rankings of point ids as Qdrant's Rrf(k, weights) computes it: a weight
    stretches the ranks, 1 / ((rank + 1) / w + k - 1), rather than scaling the score (weight 0:
    that ranking left out)."""
    scores: dict[str, float] = {}
    for w, ranking in ((wd, dense), (ws, sparse)):
        if w <= 0:
            continue
        for rank, pid in enumerate(ranking):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / ((rank + 1) / w + k - 1)
    return sorted(scores, key=lambda p: (-scores[p], p))


def main() -> None:
    from rag.answer.quotes import find_quote
    from rag.index.fusion import sparse_weight, term_coverage
    from rag.library import Library
    from rag.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", required=True)
    args = ap.parse_args()
    items = [json.loads(x) for x in TUNING.read_text().splitlines() if x.strip()]
    runs = []
    with Library(Settings(data_dir=Path(args.data_dir), progress=False)) as lib:
        for item in items:
            if not item["answerable"]:
                continue
            spans = []
            for g in item.get("gold_quotes") or []:
                doc = lib.document(g["doc_id"])
                f = find_quote(doc.text, g["quote"]) if doc else None
                if f:
                    spans.append((g["doc_id"], *f))
            if not spans:
                continue
            rankings = {}
            gold = set()
            coverage = 0.0
            for mode in ("dense", "bm25"):
                hits = lib.search(item["question"], k=100, mode=mode)
                rankings[mode] = [h.point_id for h in hits]
                if mode == "bm25" and hits:
                    coverage = term_coverage(lib.bm25, item["question"], hits[0])
                gold |= {h.point_id for h in hits if any(d == h.doc_id and h.char_start < e and s < h.char_end
                                                         for d, s, e in spans)}
            rankings["coverage"] = coverage
            runs.append((rankings, gold))
    print(f"{len(runs)} answerable tuning questions with gold found")
    print("| dense weight | BM25 weight | gold in top 5 | gold in top 10 |\n|---|---|---|---|")
    for wd, ws in ((1, 0), (0, 1), (1, 1), (1.5, 1), (2, 1), (3, 1), (4, 1), (1, 1.5)):
        r5 = sum(bool(set(fused(r["dense"], r["bm25"], wd, ws)[:5]) & g) for r, g in runs) / len(runs)
        r10 = sum(bool(set(fused(r["dense"], r["bm25"], wd, ws)[:10]) & g) for r, g in runs) / len(runs)
        print(f"| {wd} | {ws} | {r5:.3f} | {r10:.3f} |")
    print("\n| BM25 weight = coverage to the power | gold in top 5 | gold in top 10 |\n|---|---|---|")
    for power in (0.5, 1, 2, 3, 4, 5, 6, 8):
        def top(n: int, power: float = power) -> float:
            return sum(bool(set(fused(r["dense"], r["bm25"], 1, sparse_weight(r["coverage"], power))[:n]) & g)
                       for r, g in runs) / len(runs)
        print(f"| {power} | {top(5):.3f} | {top(10):.3f} |")


if __name__ == "__main__":
    main()
