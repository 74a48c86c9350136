"""Pick the weights of hybrid search's reciprocal rank fusion (dense, BM25) on the *tuning* set
(eval/datasets/tuning.jsonl over its own collection; never reported as a result): for every
answerable question, the dense and the BM25 rankings (100 deep) are fetched once, fused offline
with each weight pair, and the share of questions with a gold passage (one overlapping a gold
quote) in the top 5 and top 10 is printed; then the adaptive fusion (rag.index.fusion): BM25's
weight the share of the query's terms its best passage holds, to the power `power`.
With --expand, also BM25 with the other names of what the question names added to its query
(`expansion`: "Moscow" -> "Russia Russian"), fused the same way.

  python bench/fusion_weights.py --data-dir /tmp/tuning-rag [--expand]
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


def expansion(text: str) -> str:
    """The other names of the countries and organisations `text` names (rag.answer.entities):
    "Moscow and Minsk" -> "Russia Russian Russians Belarus Belarusian ..." (a country's first four
    names, an organisation's first two), for BM25's query."""
    from rag.answer.entities import find_entities

    extra: list[str] = []
    lowered = text.lower()
    for entity in find_entities(text):
        for name in entity.names[:4] if entity.kind == "country" else entity.names[:2]:
            if name.lower() not in lowered and name not in extra:
                extra.append(name)
    return " ".join(extra)


def main() -> None:
    from rag.answer.quotes import find_quote
    from rag.index.fusion import sparse_weight, term_coverage
    from rag.library import Library
    from rag.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--expand", action="store_true", help="also BM25 with the question's other names added")
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
            q = item["question"]
            runs_of = [("dense", "dense", q), ("bm25", "bm25", q)]
            if args.expand:
                runs_of.append(("bm25x", "bm25", f"{q} {expansion(q)}".strip()))
            for name, mode, text in runs_of:
                hits = lib.search(text, k=100, mode=mode)
                rankings[name] = [h.point_id for h in hits]
                if name == "bm25" and hits:
                    coverage = term_coverage(lib.bm25, q, hits[0])
                if name == "bm25x" and hits:
                    rankings["coverage_x"] = term_coverage(lib.bm25, text, hits[0])
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
    if args.expand:
        print("\n| BM25 query with the other names | gold in top 5 | gold in top 10 |\n|---|---|---|")
        for label, weight in (("BM25 alone", None), ("adaptive, coverage of the expanded query", "coverage_x"),
                              ("adaptive, coverage of the question", "coverage")):
            def topx(n: int, weight: str | None = weight) -> float:
                return sum(bool(set(r["bm25x"][:n] if weight is None else
                                    fused(r["dense"], r["bm25x"], 1, sparse_weight(r[weight]))[:n]) & g)
                           for r, g in runs) / len(runs)
            print(f"| {label} | {topx(5):.3f} | {topx(10):.3f} |")


if __name__ == "__main__":
    main()
