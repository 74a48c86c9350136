"""Evaluate `rag ask` (extractive answerer) on QMSum committee meetings and on the sample corpus.

Subcommands (each prints what it measured; `--md` appends nothing, results go to stdout/JSON):

  ingest    build one JSONL document per QMSum meeting ("Speaker: content" turns, blank line
            between turns) and ingest a split into a data dir
  collect   for every question, retrieve and compute the extractive features of every candidate
            sentence, with a gold label (QMSum: inside a gold turn span; sample: overlaps an
            evidence phrase); pickled for `tune` (no model calls afterwards)
  tune      compare scoring options (cosine, lexical, rank, speaker, combinations) offline on the
            collected features: precision of the top sentence and of the top 3
  calibrate sweep the abstention threshold over bench/ask_calibration.jsonl (25 answerable, 15
            unanswerable questions over data/sample): accuracy, balanced accuracy, leave-one-out
  eval      end to end with Library.ask: QMSum citations inside gold turn spans, verified quotes,
            abstention, latency p50/p95; calibration-set abstention accuracy

  python bench/ask_eval.py ingest --split val --data-dir /tmp/ask-bench/qmsum-val
  python bench/ask_eval.py eval --qmsum-dir /tmp/ask-bench/qmsum-val --split val \
      --sample-dir /tmp/ask-bench/sample --out /tmp/ask-bench/eval.json
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import pickle
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

QMSUM = Path(os.environ.get("QMSUM_DIR", ROOT.parent / "shared" / "data" / "qmsum_committee"))
CALIBRATION = ROOT / "bench" / "ask_calibration.jsonl"


def _threads(n: int) -> None:
    """Torch threads: on a shared 2-core machine one thread is ~2.5x faster than two (measured)."""
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass


def _library(data_dir: Path):
    from rag.library import Library
    from rag.settings import Settings

    return Library(Settings(data_dir=data_dir, progress=False))


# -- QMSum ------------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> None:
    _threads(args.threads)
    out = Path(args.data_dir)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / f"qmsum_{args.split}.jsonl"
    from eval.qmsum import write_corpus

    write_corpus(QMSUM, args.split, jsonl)  # the same documents `rag eval qmsum` indexes
    t0 = time.time()
    with _library(out / "data") as lib:
        report = lib.ingest([jsonl], progress=False)
    print(f"ingested {report.new} meetings, {report.chunks} chunks in {time.time() - t0:.0f}s")


def turn_spans(doc_text: str, turns: list[dict[str, str]]) -> list[tuple[int, int]]:
    """Offsets of each meeting turn in the stored document text (found in order)."""
    from eval.qmsum import turn_offsets

    return turn_offsets(doc_text, turns)


def qmsum_questions(split: str) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in (QMSUM / f"queries_{split}.jsonl").read_text().splitlines() if x.strip()]
    return [r for r in rows if r["type"] == "specific" and r.get("relevant_text_span")]


class QmsumGold:
    """Maps (doc_id, offset) to a meeting turn index, and tells whether it lies in a gold span."""

    def __init__(self, lib: Any, split: str) -> None:
        self.starts: dict[str, list[int]] = {}
        self.doc_of: dict[str, str] = {}  # meeting id -> stored doc id
        by_title = {lib.document(d).title: d for d in lib.store.doc_ids()}
        for path in sorted((QMSUM / split).glob("*.json")):
            doc_id = by_title.get(f"QMSum {path.stem}")
            if doc_id is None:
                raise SystemExit(f"meeting {path.stem} is not in the data dir: run `ingest --split {split}` first")
            doc = lib.document(doc_id)
            self.doc_of[path.stem] = doc_id
            spans = turn_spans(doc.text, json.loads(path.read_text())["meeting_transcripts"])
            self.starts[doc_id] = [s for s, _ in spans]

    def turn(self, doc_id: str, offset: int) -> int | None:
        starts = self.starts.get(doc_id)
        if not starts:
            return None
        return max(0, bisect.bisect_right(starts, offset) - 1)

    def inside(self, q: dict[str, Any], doc_id: str, start: int, end: int) -> bool:
        if doc_id != self.doc_of.get(q["meeting_id"]):
            return False
        first, last = self.turn(doc_id, start), self.turn(doc_id, max(start, end - 1))
        return any(a <= first and last <= b for a, b in q["relevant_text_span"])

    def overlaps(self, q: dict[str, Any], doc_id: str, start: int, end: int) -> bool:
        if doc_id != self.doc_of.get(q["meeting_id"]):
            return False
        first, last = self.turn(doc_id, start), self.turn(doc_id, max(start, end - 1))
        return any(first <= b and a <= last for a, b in q["relevant_text_span"])


# -- the sample calibration set ---------------------------------------------------------------
def calibration_questions() -> list[dict[str, Any]]:
    return [json.loads(x) for x in CALIBRATION.read_text().splitlines() if x.strip()]


def _base_id(doc_id: str) -> str:
    return re.sub(r"-[0-9a-f]{8}$", "", doc_id)


class SampleGold:
    """Evidence spans of the answerable calibration questions, found in the stored documents."""

    def __init__(self, lib: Any) -> None:
        from rag.answer.quotes import find_quote

        self.spans: dict[str, list[tuple[str, int, int]]] = {}
        ids = {_base_id(d): d for d in lib.store.doc_ids()}
        for q in calibration_questions():
            if not q["answerable"]:
                continue
            doc_id = ids[_base_id(q["doc_id"])]
            text = lib.document(doc_id).text
            found = [find_quote(text, e) for e in q["evidence"]]
            self.spans[q["id"]] = [(doc_id, s, e) for s, e in (f for f in found if f)]

    def inside(self, q: dict[str, Any], doc_id: str, start: int, end: int) -> bool:
        return any(d == doc_id and start < e and s < end for d, s, e in self.spans.get(q["id"], []))


# -- collect / tune ---------------------------------------------------------------------------
FEATURES = ("cos", "lex", "rank", "speaker")


def _collect_one(lib: Any, answerer: Any, question: str, speaker_hint: bool, k: int) -> tuple[list[dict], float]:
    from rag.answer.asking import retrieve

    hits = retrieve(lib, question, k, speaker_hint=speaker_hint)
    t = time.time()
    cands = answerer.candidates(question, hits)
    rows = [{"doc_id": c.doc_id, "start": c.start, "end": c.end, "eligible": c.eligible and c.words >= answerer.min_words,
             "cos": c.cos, "lex": c.lex, "rank": c.rank_feature, "speaker": c.speaker_match,
             "vector": c.vector} for c in cands]
    return rows, time.time() - t


def cmd_collect(args: argparse.Namespace) -> None:
    from rag.answer.asking import make_answerer

    _threads(args.threads)
    out: dict[str, Any] = {"qmsum": [], "sample": []}
    if args.qmsum_dir:
        with _library(Path(args.qmsum_dir) / "data") as lib:
            gold = QmsumGold(lib, args.split)
            answerer = make_answerer(lib, "extractive")
            questions = qmsum_questions(args.split)[: args.limit or None]
            for i, q in enumerate(questions):
                for hint in (True, False):  # the second pass finds its sentence vectors cached
                    rows, _ = _collect_one(lib, answerer, q["query"], hint, args.k)
                    for r in rows:
                        r["gold"] = gold.overlaps(q, r["doc_id"], r["start"], r["end"])
                    out["qmsum"].append({"hint": hint, "qid": q["qid"], "rows": rows})
                print(f"qmsum {i + 1}/{len(questions)}", file=sys.stderr, end="\r")
    if args.sample_dir:
        with _library(Path(args.sample_dir)) as lib:
            gold = SampleGold(lib)
            answerer = make_answerer(lib, "extractive")
            for q in calibration_questions():
                for hint in (True, False):
                    rows, _ = _collect_one(lib, answerer, q["question"], hint, args.k)
                    for r in rows:
                        r["gold"] = q["answerable"] and gold.inside(q, r["doc_id"], r["start"], r["end"])
                    out["sample"].append({"hint": hint, "qid": q["id"], "answerable": q["answerable"],
                                          "rows": rows})
    Path(args.out).write_bytes(pickle.dumps(out))
    print(f"\nwrote {args.out}")


def _score(row: dict, w: dict[str, float]) -> float:
    return sum(w.get(f, 0.0) * row[f] for f in FEATURES)


def _precision(items: list[dict], w: dict[str, float], top: int = 1) -> tuple[float, float]:
    """(share of questions whose top sentence is gold, share of gold among the top `top`)."""
    import numpy as np

    hit1, gold_top, n_top = 0, 0, 0
    for item in items:
        rows = sorted((r for r in item["rows"] if r["eligible"]), key=lambda r: -_score(r, w))
        if not rows:
            continue
        hit1 += rows[0]["gold"]
        picked: list[dict] = []
        for r in rows:  # a light MMR-free dedupe: skip near-duplicates of what is picked
            if any(float(np.dot(r["vector"], p["vector"])) > 0.92 for p in picked):
                continue
            picked.append(r)
            if len(picked) == top:
                break
        gold_top += sum(p["gold"] for p in picked)
        n_top += len(picked)
    return hit1 / max(1, len(items)), gold_top / max(1, n_top)


def _prefilter(item: dict, cap: int) -> dict:
    """The item as if only the `cap` sentences best by lexical coverage + passage rank were embedded."""
    if not cap or len(item["rows"]) <= cap:
        return item
    rows = sorted(item["rows"], key=lambda r: -(r["lex"] + 0.5 * r["rank"]))[:cap]
    return {**item, "rows": rows}


def cmd_tune(args: argparse.Namespace) -> None:
    data = pickle.loads(Path(args.features).read_bytes())
    options = {
        "cosine only": {"cos": 1.0},
        "lexical only": {"lex": 1.0},
        "passage rank only": {"rank": 1.0},
        "cos + 0.3 lex": {"cos": 1.0, "lex": 0.3},
        "cos + 0.2 rank": {"cos": 1.0, "rank": 0.2},
    }
    grid = list(itertools.product([0.0, 0.15, 0.3, 0.5, 0.8], [0.0, 0.1, 0.2, 0.4], [0.0, 0.15, 0.3]))
    sets = {name: [x for x in data[name] if x.get("answerable", True)] for name in ("qmsum", "sample")}
    print("| option | speaker hint | QMSum top-1 in gold | QMSum top-3 precision | sample top-1 | sample top-3 |")
    print("|---|---|---|---|---|---|")
    for hint in (False, True):
        q = [x for x in sets["qmsum"] if x["hint"] == hint]
        s = [x for x in sets["sample"] if x["hint"] == hint]
        rows = list(options.items())
        best = max(grid, key=lambda g: _precision(q, {"cos": 1.0, "lex": g[0], "rank": g[1], "speaker": g[2]})[0]
                   + _precision(q, {"cos": 1.0, "lex": g[0], "rank": g[1], "speaker": g[2]}, 3)[1]) if q else None
        if best:
            rows.append((f"best grid: cos + {best[0]} lex + {best[1]} rank + {best[2]} speaker",
                         {"cos": 1.0, "lex": best[0], "rank": best[1], "speaker": best[2]}))
        if args.weights:
            rows.append(("chosen " + args.weights, json.loads(args.weights)))
        for name, w in rows:
            q1, q3 = _precision(q, w, 3) if q else (float("nan"),) * 2
            s1, s3 = _precision(s, w, 3) if s else (float("nan"),) * 2
            print(f"| {name} | {'on' if hint else 'off'} | {q1:.3f} | {q3:.3f} | {s1:.3f} | {s3:.3f} |")
    if args.weights:
        w = json.loads(args.weights)
        print("\n| sentences embedded (prefilter by lexical + rank) | QMSum top-1 | QMSum top-3 | sample top-1 "
              "| calibration balanced accuracy | mean candidates |")
        print("|---|---|---|---|---|---|")
        for cap in (0, 80, 50, 30):
            q = [_prefilter(x, cap) for x in sets["qmsum"] if x["hint"]]
            s = [_prefilter(x, cap) for x in sets["sample"] if x["hint"]]
            cal = [_prefilter(x, cap) for x in data["sample"] if x["hint"]]
            scores = [(max((r["cos"] for r in x["rows"] if r["eligible"]), default=-1.0), x["answerable"]) for x in cal]
            q1, q3 = _precision(q, w, 3) if q else (float("nan"),) * 2
            s1, _ = _precision(s, w, 3)
            mean = statistics.mean(len(x["rows"]) for x in q + s)
            print(f"| {cap or 'all'} | {q1:.3f} | {q3:.3f} | {s1:.3f} | {sweep(scores)['balanced_accuracy']:.3f} | {mean:.0f} |")
    if args.grid_out:
        table = []
        for hint in (False, True):
            q = [x for x in sets["qmsum"] if x["hint"] == hint]
            for g in grid:
                w = {"cos": 1.0, "lex": g[0], "rank": g[1], "speaker": g[2]}
                table.append({"hint": hint, **w, "top1": _precision(q, w)[0], "top3": _precision(q, w, 3)[1]})
        Path(args.grid_out).write_text(json.dumps(table, indent=1))


# -- abstention calibration -------------------------------------------------------------------
def sweep(scores: list[tuple[float, bool]]) -> dict[str, Any]:
    """Best threshold for `answer when support >= t` on (support, answerable) pairs."""
    values = sorted({s for s, _ in scores})
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    pos = sum(1 for _, a in scores if a) or 1
    neg = sum(1 for _, a in scores if not a) or 1

    def metrics(t: float) -> tuple[float, float]:
        tp = sum(1 for s, a in scores if a and s >= t)
        tn = sum(1 for s, a in scores if not a and s < t)
        return (tp + tn) / len(scores), (tp / pos + tn / neg) / 2

    best_bal = max(metrics(t)[1] for t in cuts)
    good = [t for t in cuts if metrics(t)[1] == best_bal]
    # the widest run of optimal cuts; its midpoint leaves most room on both sides
    runs: list[list[float]] = []
    for t in good:
        if runs and cuts.index(t) == cuts.index(runs[-1][-1]) + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    run = max(runs, key=lambda r: (r[-1] - r[0], -abs(r[0])))
    threshold = (run[0] + run[-1]) / 2
    acc, bal = metrics(threshold)
    return {"threshold": threshold, "accuracy": acc, "balanced_accuracy": bal, "range": [run[0], run[-1]]}


def loo(scores: list[tuple[float, bool]]) -> float:
    """Leave-one-out accuracy of the threshold choice."""
    right = 0
    for i, (s, a) in enumerate(scores):
        t = sweep(scores[:i] + scores[i + 1:])["threshold"]
        right += (s >= t) == a
    return right / len(scores)


def cmd_calibrate(args: argparse.Namespace) -> None:
    data = pickle.loads(Path(args.features).read_bytes())
    items = [x for x in data["sample"] if x["hint"]]
    options = {"cosine": {"cos": 1.0}, "lexical": {"lex": 1.0}, "cos + 0.3 lex": {"cos": 1.0, "lex": 0.3},
               "cos + 0.5 lex": {"cos": 1.0, "lex": 0.5}, "cos + 1.0 lex": {"cos": 1.0, "lex": 1.0},
               "cos + 0.3 lex + 0.15 speaker": {"cos": 1.0, "lex": 0.3, "speaker": 0.15},
               "score (ranking weights)": json.loads(args.weights) if args.weights else {"cos": 1.0}}
    print("| support | threshold | optimal range | accuracy | balanced accuracy | leave-one-out accuracy |")
    print("|---|---|---|---|---|---|")
    for name, w in options.items():
        scores = [(max((_score(r, w) for r in x["rows"] if r["eligible"]), default=-1.0), x["answerable"])
                  for x in items]
        res = sweep(scores)
        print(f"| {name} | {res['threshold']:.3f} | {res['range'][0]:.3f}–{res['range'][1]:.3f} | "
              f"{res['accuracy']:.3f} | {res['balanced_accuracy']:.3f} | {loo(scores):.3f} |")
        if args.verbose:
            for x, (s, a) in sorted(zip(items, scores), key=lambda p: p[1][0]):
                print(f"    {s:.3f} {'A' if a else 'U'} {x['qid']}")


# -- end to end -------------------------------------------------------------------------------
def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _check(lib: Any, ans: Any) -> tuple[int, int]:
    """(verified citations, citations): each quote re-checked against its stored document."""
    from rag.answer.quotes import verify_span

    ok = 0
    for c in ans.citations:
        doc = lib.document(c.doc_id)
        ok += bool(doc and verify_span(doc.text, c.quote, c.char_start, c.char_end)
                   and f"[{c.n}]" in ans.text)
    return ok, len(ans.citations)


def cmd_eval(args: argparse.Namespace) -> None:
    _threads(args.threads)
    result: dict[str, Any] = {}
    options = json.loads(args.options) if args.options else {}
    if args.qmsum_dir:
        with _library(Path(args.qmsum_dir) / "data") as lib:
            gold = QmsumGold(lib, args.split)
            lib.ask("warm up the model", **options)
            questions = qmsum_questions(args.split)[: args.limit or None]
            lat, verified, total, answered = [], 0, 0, 0
            cit_in, any_in, all_in, top_in, per_q = 0, 0, 0, 0, []
            for i, q in enumerate(questions):
                t = time.time()
                ans = lib.ask(q["query"], **options)
                lat.append(time.time() - t)
                ok, n = _check(lib, ans)
                verified += ok
                total += n
                inside = [gold.inside(q, c.doc_id, c.char_start, c.char_end) for c in ans.citations]
                if not ans.abstained:
                    answered += 1
                    cit_in += sum(inside)
                    any_in += any(inside)
                    all_in += bool(inside) and all(inside)
                    best = max(ans.citations, key=lambda c: c.score)
                    top_in += gold.inside(q, best.doc_id, best.char_start, best.char_end)
                per_q.append({"qid": q["qid"], "abstained": ans.abstained, "inside": inside,
                              "seconds": lat[-1]})
                print(f"qmsum {i + 1}/{len(questions)} {lat[-1]:.1f}s", file=sys.stderr, end="\r")
            n_q = len(questions)
            result["qmsum"] = {
                "split": args.split, "questions": n_q, "answered": answered,
                "abstention_rate": 1 - answered / n_q, "citations": total,
                "citations_per_answer": total / max(1, answered),
                "verified_share": verified / max(1, total),
                "citation_precision": cit_in / max(1, total),
                "answers_with_a_citation_in_gold": any_in / max(1, answered),
                "answers_with_all_citations_in_gold": all_in / max(1, answered),
                "top_citation_in_gold": top_in / max(1, answered),
                "latency_p50": _percentile(lat, 0.5), "latency_p95": _percentile(lat, 0.95),
                "per_question": per_q,
            }
    if args.sample_dir:
        with _library(Path(args.sample_dir)) as lib:
            gold = SampleGold(lib)
            lib.ask("warm up the model", **options)
            lat, verified, total, rows = [], 0, 0, []
            for q in calibration_questions():
                t = time.time()
                ans = lib.ask(q["question"], **options)
                lat.append(time.time() - t)
                ok, n = _check(lib, ans)
                verified += ok
                total += n
                correct_quote = (q["answerable"] and not ans.abstained
                                 and any(gold.inside(q, c.doc_id, c.char_start, c.char_end) for c in ans.citations))
                rows.append({"id": q["id"], "answerable": q["answerable"], "abstained": ans.abstained,
                             "quote_on_evidence": correct_quote})
            ans_q = [r for r in rows if r["answerable"]]
            una_q = [r for r in rows if not r["answerable"]]
            result["sample"] = {
                "questions": len(rows), "verified_share": verified / max(1, total), "citations": total,
                "answered_when_answerable": sum(not r["abstained"] for r in ans_q) / len(ans_q),
                "abstained_when_unanswerable": sum(r["abstained"] for r in una_q) / len(una_q),
                "answerable_with_a_quote_on_the_evidence": sum(r["quote_on_evidence"] for r in ans_q) / len(ans_q),
                "latency_p50": _percentile(lat, 0.5), "latency_p95": _percentile(lat, 0.95),
                "per_question": rows,
            }
    Path(args.out).write_text(json.dumps(result, indent=1))
    brief = {k: {m: (round(v, 3) if isinstance(v, float) else v) for m, v in d.items() if m not in ("per_question",)}
             for k, d in result.items()}
    print(json.dumps(brief, indent=1))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("--split", default="val")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("collect")
    p.add_argument("--qmsum-dir")
    p.add_argument("--split", default="train")
    p.add_argument("--sample-dir")
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p = sub.add_parser("tune")
    p.add_argument("--features", required=True)
    p.add_argument("--weights", help="JSON weights to report as well")
    p.add_argument("--grid-out")
    p = sub.add_parser("calibrate")
    p.add_argument("--features", required=True)
    p.add_argument("--weights", help="JSON ranking weights (reported as a support option too)")
    p.add_argument("--verbose", action="store_true")
    p = sub.add_parser("eval")
    p.add_argument("--qmsum-dir")
    p.add_argument("--split", default="val")
    p.add_argument("--sample-dir")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--options", help="JSON options for Library.ask")
    p.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    {"ingest": cmd_ingest, "collect": cmd_collect, "tune": cmd_tune, "calibrate": cmd_calibrate,
     "eval": cmd_eval}[args.cmd](args)


if __name__ == "__main__":
    main()
