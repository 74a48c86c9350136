"""Choose `rag.answer.first.NEAR_THRESHOLD`: when is a sentence "near-verbatim" to a phrase or claim?

`bench/first_calibration.jsonl` holds 32 queries written over data/sample by reading it: 22
paraphrases of things said there, each with the sentences that say the same thing (substrings of
the stored text; found by reading the documents and the candidates `dump` prints), and 10 claims on
the sample's topics that nobody in it makes (the Minsk agreements "are dead", Russia "will join
NATO", ...). For each query the near-verbatim search of `rag first` (`rag.answer.first.near_occurrences`:
hybrid retrieval, sentence and clause windows, MiniLM cosine) lists its candidates; a candidate is
positive when its quote holds one of the query's positive substrings.

  collect  run the search for every query, save candidates with labels (JSON)
  dump     print each query's best candidates with their labels (to review the labels)
  sweep    for every cut between observed similarities: precision, recall and F1 over candidates,
           and the share of queries whose "first" is right (the earliest candidate at or above the
           cut is a positive; for a query nobody said, no candidate passes); the best cut (`best_cut`:
           most firsts right with a precision of at least 0.8), and leave-one-query-out accuracy of
           choosing it that way

  python bench/first_threshold.py collect --data-dir /tmp/first-bench/data --out /tmp/first-bench/cands.json
  python bench/first_threshold.py sweep --cands /tmp/first-bench/cands.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CALIBRATION = ROOT / "bench" / "first_calibration.jsonl"


def load_queries(path: Path = CALIBRATION) -> list[dict[str, Any]]:
    """The labelled queries, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def relabel(data: dict[str, Any], path: Path = CALIBRATION) -> None:
    """Labels from the current set (candidates collected before a label was added or fixed)."""
    from rag.answer.quotes import normalise

    sets = {q["id"]: [normalise(p).lower() for p in q["positives"]] for q in load_queries(path)}
    for q in data["queries"]:
        positives = sets[q["id"]]
        q["targets"] = len(positives)
        for c in q["candidates"]:
            quote = normalise(c["quote"]).lower()
            c["targets"] = [i for i, p in enumerate(positives) if p in quote]
            c["positive"] = bool(c["targets"])


def cmd_collect(args: argparse.Namespace) -> None:
    from rag.answer.first import near_occurrences, resolve_scope
    from rag.answer.quotes import normalise
    from rag.library import Library
    from rag.settings import Settings

    if not (Path(args.data_dir) / "store.sqlite3").exists():
        raise SystemExit(f"{args.data_dir} holds no collection: rag ingest data/sample --data-dir {args.data_dir}")
    from rag.answer.first import WINDOW_RATIO

    ratio = None if args.sentences_only else (args.window_ratio or WINDOW_RATIO)
    out: dict[str, Any] = {"window_ratio": ratio, "queries": []}
    with Library(Settings(data_dir=Path(args.data_dir), progress=False)) as lib:
        scope = resolve_scope(lib)
        t0 = time.perf_counter()
        for q in load_queries(Path(args.set)):
            found = near_occurrences(lib, q["query"], scope, window_ratio=ratio)
            positives = [normalise(p).lower() for p in q["positives"]]
            cands = []
            for o in found:
                quote = normalise(o.citation.quote).lower()
                hits = [i for i, p in enumerate(positives) if p in quote]
                cands.append({"similarity": o.similarity, "date": o.citation.date, "doc_id": o.citation.doc_id,
                              "speaker": o.citation.speaker, "asked": o.asked, "quote": o.citation.quote,
                              "window": lib.document(o.citation.doc_id).text[o.match_start:o.match_end],
                              "positive": bool(hits), "targets": hits, "start": o.match_start})
            out["queries"].append({"id": q["id"], "query": q["query"], "targets": len(positives),
                                   "candidates": cands})
        out["seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(out['queries'])} queries, {sum(len(q['candidates']) for q in out['queries'])} candidates "
          f"in {out['seconds']} s -> {args.out}")


def cmd_dump(args: argparse.Namespace) -> None:
    data = json.loads(Path(args.cands).read_text(encoding="utf-8"))
    relabel(data)
    for q in data["queries"]:
        print(f"== {q['id']} {q['query']}  ({q['targets']} positive substrings)")
        for c in sorted(q["candidates"], key=lambda c: -c["similarity"])[: args.top]:
            mark = "POS" if c["positive"] else "   "
            print(f"  {mark} {c['similarity']:.3f} {c['date']} {c['speaker'][:16]:16} | {c['window'][:110]}")


def evaluate(queries: list[dict[str, Any]], cut: float) -> dict[str, float]:
    """Candidate precision/recall/F1 at `cut` and the share of queries whose first is right."""
    tp = fp = fn = 0
    right = 0
    for q in queries:
        above = [c for c in q["candidates"] if c["similarity"] >= cut]
        tp += sum(c["positive"] for c in above)
        fp += sum(not c["positive"] for c in above)
        hit = {t for c in above for t in c["targets"]}
        fn += q["targets"] - len(hit)
        said = sorted((c for c in above if not c["asked"] and c["date"]), key=lambda c: (c["date"], c["start"]))
        if q["targets"]:
            right += bool(said) and said[0]["positive"]
        else:
            right += not said
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"cut": cut, "precision": precision, "recall": recall, "f1": f1,
            "first_right": right / len(queries), "tp": tp, "fp": fp, "fn": fn}


MIN_PRECISION = 0.8


def best_cut(queries: list[dict[str, Any]], min_precision: float = MIN_PRECISION) -> tuple[float, dict[str, float]]:
    """Among the cuts where at least `min_precision` of the near matches are right (a list in which
    more than one in five is wrong would mislead, and the verbatim matches are shown either way),
    the one with the most queries whose first is right, then the best precision, then F1; cuts lie
    midway between observed similarities, and of a run of equally good ones the middle is taken."""
    sims = sorted({round(c["similarity"], 3) for q in queries for c in q["candidates"] if c["similarity"] >= 0.5})
    cuts = [(a + b) / 2 for a, b in zip(sims, sims[1:])] or [0.5]
    scored = [r for r in (evaluate(queries, c) for c in cuts) if r["precision"] >= min_precision]
    if not scored:
        scored = [evaluate(queries, cuts[-1])]
    rank = lambda r: (r["first_right"], round(r["precision"], 6), round(r["f1"], 6))  # noqa: E731
    best = max(scored, key=rank)
    run = [r["cut"] for r in scored if rank(r) == rank(best)]
    mid = (min(run) + max(run)) / 2
    return mid, evaluate(queries, mid)


def cmd_sweep(args: argparse.Namespace) -> None:
    data = json.loads(Path(args.cands).read_text(encoding="utf-8"))
    relabel(data, Path(args.set))
    queries = data["queries"]
    ratio = data.get("window_ratio")
    print(f"candidates from {'sentences only' if ratio is None else f'sentences and clauses (ratio {ratio:.2f})'}; "
          f"{len(queries)} queries ({sum(q['targets'] > 0 for q in queries)} said, "
          f"{sum(q['targets'] == 0 for q in queries)} nobody said)")
    print("| cut | precision | recall | F1 | first right |")
    print("|---|---|---|---|---|")
    for cut in [x / 100 for x in range(60, 96, 2)]:
        r = evaluate(queries, cut)
        print(f"| {cut:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['first_right']:.3f} |")
    mid, r = best_cut(queries)
    print(f"best cut {mid:.4f}: precision {r['precision']:.3f}, recall {r['recall']:.3f}, F1 {r['f1']:.3f}, "
          f"first right {r['first_right']:.3f} (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
    kinds = {"p": "paraphrased claims", "s": "paraphrased short phrases", "n": "claims nobody made"}
    for prefix, kind in kinds.items():
        part = [q for q in queries if q["id"].startswith(prefix)]
        if part:
            r = evaluate(part, mid)
            print(f"  {kind} ({len(part)}): first right {r['first_right']:.3f}, tp {r['tp']}, fp {r['fp']}, "
                  f"fn {r['fn']}")
    right = 0
    cuts = []
    for i, q in enumerate(queries):
        cut, _ = best_cut(queries[:i] + queries[i + 1:])
        cuts.append(cut)
        right += evaluate([q], cut)["first_right"]
    print(f"leave one query out: first right for {right:.0f}/{len(queries)} = {right / len(queries):.3f}; "
          f"cuts chosen {min(cuts):.4f}-{max(cuts):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect")
    p.add_argument("--data-dir", required=True, help="a data dir with data/sample ingested")
    p.add_argument("--set", default=str(CALIBRATION))
    p.add_argument("--out", required=True)
    p.add_argument("--sentences-only", action="store_true", help="no clause windows (to compare)")
    p.add_argument("--window-ratio", type=float, default=None,
                   help="shortest clause window as a share of the phrase's words (default rag.answer.first.WINDOW_RATIO)")
    p = sub.add_parser("dump")
    p.add_argument("--cands", required=True)
    p.add_argument("--top", type=int, default=8)
    p = sub.add_parser("sweep")
    p.add_argument("--cands", required=True)
    p.add_argument("--set", default=str(CALIBRATION))
    args = parser.parse_args()
    {"collect": cmd_collect, "dump": cmd_dump, "sweep": cmd_sweep}[args.command](args)


if __name__ == "__main__":
    main()
