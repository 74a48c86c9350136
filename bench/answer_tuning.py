"""Tune the extractive answerer's sentence weights and abstention threshold on the *tuning* set
(eval/datasets/tuning.jsonl over eval/datasets/tuning_docs.txt: 160 answerable, 40 unanswerable;
never reported as a result). The statements and paraphrase sets are left alone for `rag eval`.

  collect  retrieve as `rag ask` does (a question asking for one person's words searches their
           passages), compute every candidate sentence's features once, label it gold when it
           overlaps a gold quote; pickled (no model calls afterwards)
  tune     grid over the weights of the answer-type, entity and foreign-country features (and
           lexical/rank), ranking: share of answerable questions whose top sentence is gold;
           then the support threshold by balanced accuracy (answerable vs unanswerable)

  python bench/answer_tuning.py collect --data-dir /tmp/tuning-rag --out /tmp/tuning-feats.pkl
  python bench/answer_tuning.py tune --features /tmp/tuning-feats.pkl
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TUNING = ROOT / "eval" / "datasets" / "tuning.jsonl"
FEATURES = ("cos", "lex", "rank", "speaker", "atype", "ent", "foreign", "ce", "e5")
E5_TOP = 10
"""With --e5: the best sentences by today's weights that multilingual-e5-small reads (the others get 0)."""


def gold_spans(lib: Any, item: dict[str, Any]) -> list[tuple[str, int, int]]:
    from rag.answer.quotes import find_quote

    spans = []
    for g in item.get("gold_quotes") or []:
        doc = lib.document(g["doc_id"])
        found = find_quote(doc.text, g["quote"]) if doc is not None else None
        if found:
            spans.append((g["doc_id"], found[0], found[1]))
    return spans


def ask_hits(lib: Any, question: str, k: int) -> tuple[list, list]:
    """The passages `ask` gives its answerer, and whose words the question asks for: a question
    asking for one person's words searches their passages; one asking for a person nobody in the
    collection is searches without a speaker hint."""
    from rag.answer.asking import retrieve
    from rag.answer.named_speaker import asked_for

    asked, stranger = asked_for(lib.speaker_index(), question)
    if asked:
        return lib.search(question, k=k, speaker=[a for ident in asked for a in ident.aliases]), asked
    return retrieve(lib, question, k, speaker_hint=stranger is None), asked


def cmd_collect(args: argparse.Namespace) -> None:
    from rag.answer.asking import make_answerer
    from rag.library import Library
    from rag.settings import Settings

    items = [json.loads(x) for x in Path(args.questions).read_text().splitlines() if x.strip()][: args.limit or None]
    out = []
    t0 = time.time()
    with Library(Settings(data_dir=Path(args.data_dir), progress=False)) as lib:
        relevance = None
        if args.ce:
            from rag.models.relevance import CrossEncoder

            relevance = CrossEncoder(Path(args.ce).parent.name, weights=Path(args.ce))
        answerer = make_answerer(lib, "extractive", relevance=relevance)
        e5 = None
        if args.e5:
            from rag.models.e5 import E5Encoder

            e5 = E5Encoder()
        for i, item in enumerate(items):
            q = item["question"]
            hits, asked = ask_hits(lib, q, args.k)
            cands = answerer.candidates(q, hits)
            gold = gold_spans(lib, item)
            rows = [{"doc_id": c.doc_id, "start": c.start, "end": c.end, "index": c.index, "turn": c.turn_key,
                     "eligible": c.eligible and c.words >= answerer.min_words,
                     "gold": any(d == c.doc_id and c.start < e and s < c.end for d, s, e in gold),
                     **{f: getattr(c, {"rank": "rank_feature", "speaker": "speaker_match"}.get(f, f), 0.0)
                        for f in FEATURES}}
                    for c in cands]
            if e5 is not None:
                _add_e5(e5, q, cands, rows)
            out.append({"id": item["id"], "answerable": item["answerable"], "category": item.get("category"),
                        "asked": [a.name for a in asked], "rows": rows, "gold_found": bool(gold)})
            rate = (i + 1) / (time.time() - t0)
            print(f"collect {i + 1}/{len(items)} ({rate:.2f} q/s, eta {(len(items) - i - 1) / rate:.0f} s)",
                  file=sys.stderr, end="\r")
    Path(args.out).write_bytes(pickle.dumps(out))
    print(f"\nwrote {args.out}: {len(out)} questions")


def _add_e5(e5: Any, question: str, cands: list, rows: list[dict]) -> None:
    """The `e5` feature: multilingual-e5-small cosine of the question (query) with each of the
    E5_TOP best eligible sentences by today's weights (passage); 0 for the others."""
    from rag.answer.extractive import WEIGHTS

    order = sorted((i for i, r in enumerate(rows) if r["eligible"]), key=lambda i: -_score(rows[i], WEIGHTS))[:E5_TOP]
    for r in rows:
        r["e5"] = 0.0
    if not order:
        return
    q = e5.queries([question])[0]
    vectors = e5.passages([cands[i].text for i in order])
    for i, v in zip(order, vectors):
        rows[i]["e5"] = float(v @ q)


def _score(row: dict, w: dict[str, float]) -> float:
    return sum(w.get(f, 0.0) * row.get(f, 0.0) for f in FEATURES)


def top1(items: list[dict], w: dict[str, float]) -> float:
    """Share of answerable questions (with a gold span found) whose best eligible sentence is gold
    or a direct neighbour of a gold one in its turn (the quote widens by one sentence)."""
    scored = [x for x in items if x["answerable"] and x["gold_found"]]
    hits = 0
    for x in scored:
        rows = [r for r in x["rows"] if r["eligible"]]
        if not rows:
            continue
        best = max(rows, key=lambda r: _score(r, w))
        hits += best["gold"]
    return hits / max(1, len(scored))


def balanced(items: list[dict], sw: dict[str, float]) -> tuple[float, float, float, float]:
    """(threshold, balanced accuracy, abstained on unanswerable, false refusals) of the best cut."""
    return best_cut([(max((_score(r, sw) for r in x["rows"] if r["eligible"]), default=-9.0), x["answerable"])
                     for x in items])


def best_cut(pairs: list[tuple[float, bool]]) -> tuple[float, float, float, float]:
    """`balanced` over (support, answerable) pairs: every midpoint between two observed supports is
    tried, the one of best balanced accuracy kept."""
    cuts = sorted({s for s, _ in pairs})
    best = (0.0, 0.0, 0.0, 1.0)
    pos = [s for s, a in pairs if a]
    neg = [s for s, a in pairs if not a]
    for lo, hi in zip(cuts, cuts[1:]):
        t = (lo + hi) / 2
        tpr = sum(s >= t for s in pos) / max(1, len(pos))
        tnr = sum(s < t for s in neg) / max(1, len(neg))
        if (tpr + tnr) / 2 > best[1]:
            best = (t, (tpr + tnr) / 2, tnr, 1 - tpr)
    return best


def cmd_tune(args: argparse.Namespace) -> None:
    from rag.answer.extractive import WEIGHTS

    items = pickle.loads(Path(args.features).read_bytes())
    base = dict(WEIGHTS)
    print(f"{len(items)} questions, {sum(x['answerable'] and x['gold_found'] for x in items)} answerable with gold found")
    print(f"today's weights {base}: top-1 gold {top1(items, base):.3f}")
    grid = itertools.product([0.5, 0.8, 1.1], [0.1, 0.2], [0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.3],
                             [0.0, 0.1, 0.2, 0.4])
    results = []
    for lex, rank, atype, ent, foreign in grid:
        w = {"cos": 1.0, "lex": lex, "rank": rank, "speaker": base.get("speaker", 0.3), "atype": atype,
             "ent": ent, "foreign": -foreign}
        results.append((top1(items, w), w))
    results.sort(key=lambda p: -p[0])
    for score, w in results[:8]:
        print(f"top-1 gold {score:.3f}  {w}")
    has_ce = any(r.get("ce") for x in items for r in x["rows"])
    if has_ce:
        ce_results = []
        for ce, lex, rank, atype in itertools.product([0.25, 0.5, 1.0, 2.0, 4.0], [0.0, 0.25, 0.5], [0.0, 0.1, 0.2],
                                                      [0.0, 0.1, 0.2]):
            w = {"cos": 1.0, "lex": lex, "rank": rank, "speaker": base.get("speaker", 0.3), "atype": atype, "ce": ce}
            ce_results.append((top1(items, w), w))
        ce_results.sort(key=lambda p: -p[0])
        print(f"relevance model alone: top-1 gold {top1(items, {'ce': 1.0}):.3f}")
        for score, w in ce_results[:8]:
            print(f"with ce: top-1 gold {score:.3f}  {w}")
    if any(r.get("e5") for x in items for r in x["rows"]):
        e5_results = []
        for e5w, lex, atype in itertools.product([0.5, 1.0, 2.0, 4.0], [0.0, 0.25, 0.5], [0.0, 0.1, 0.2]):
            w = {"cos": 1.0, "lex": lex, "rank": base.get("rank", 0.1), "speaker": base.get("speaker", 0.3),
                 "atype": atype, "e5": e5w}
            e5_results.append((top1(items, w), w))
        e5_results.sort(key=lambda p: -p[0])
        print(f"e5 alone: top-1 gold {top1(items, {'e5': 1.0}):.3f}")
        for score, w in e5_results[:5]:
            print(f"with e5: top-1 gold {score:.3f}  {w}")
    supports = [("cos", {"cos": 1.0}), ("cos+0.1ent", {"cos": 1.0, "ent": 0.1}),
                ("cos+0.2lex", {"cos": 1.0, "lex": 0.2}), ("cos+0.1atype", {"cos": 1.0, "atype": 0.1})]
    if has_ce:
        supports += [("ce", {"ce": 1.0}), ("ce+0.5cos", {"ce": 1.0, "cos": 0.5}), ("ce+1cos", {"ce": 1.0, "cos": 1.0}),
                     ("ce+2cos", {"ce": 1.0, "cos": 2.0})]
    if any(r.get("e5") for x in items for r in x["rows"]):
        supports += [("e5", {"e5": 1.0}), ("e5+0.5cos", {"e5": 1.0, "cos": 0.5}), ("e5+1cos", {"e5": 1.0, "cos": 1.0}),
                     ("e5+0.2lex", {"e5": 1.0, "lex": 0.2})]
    for name, sw in supports:
        t, bacc, tnr, fr = balanced(items, sw)
        print(f"support {name}: threshold {t:.3f} balanced accuracy {bacc:.3f} abstained-unanswerable {tnr:.3f} "
              f"false refusals {fr:.3f}")
    # one threshold or two: questions that name a speaker of their passages, and those that name none
    for label, xs in (("naming a speaker", [x for x in items if any(r["speaker"] for r in x["rows"])]),
                      ("naming none", [x for x in items if not any(r["speaker"] for r in x["rows"])])):
        pos = [max((r["cos"] for r in x["rows"] if r["eligible"]), default=-9.0) for x in xs if x["answerable"]]
        neg = [max((r["cos"] for r in x["rows"] if r["eligible"]), default=-9.0) for x in xs if not x["answerable"]]
        cells = ", ".join(f"{t}: answered {sum(v >= t for v in pos) / max(1, len(pos)):.3f} abstained "
                          f"{sum(v < t for v in neg) / max(1, len(neg)):.3f}" for t in (0.45, 0.5, 0.557, 0.6))
        print(f"{label} ({len(pos)} answerable, {len(neg)} unanswerable): {cells}")
    by_cat: dict[str, list[dict]] = {}
    for x in items:
        by_cat.setdefault(x["category"] or "-", []).append(x)
    best_w = results[0][1]
    for cat, xs in sorted(by_cat.items()):
        print(f"  {cat}: today {top1(xs, base):.3f} best {top1(xs, best_w):.3f} ({len(xs)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("collect")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--questions", default=str(TUNING),
                   help="the question set (default: the tuning set; another set only to read a choice made on it)")
    p.add_argument("--ce", help="a cross-encoder checkpoint (python -m training train ce): adds the `ce` feature")
    p.add_argument("--e5", action="store_true", help="adds the `e5` feature (multilingual-e5-small cosine)")
    p = sub.add_parser("tune")
    p.add_argument("--features", required=True)
    args = parser.parse_args(argv)
    {"collect": cmd_collect, "tune": cmd_tune}[args.cmd](args)


if __name__ == "__main__":
    main()
