"""How many candidate sentences the LLM selector (`--answerer llm --llm-mode select`) is shown:
the same questions answered with each count, interleaved question by question so that the shared
machine's load hits every count alike (in alternating order, the model's prompt cache
emptied before each call). Per count: answered, answers citing a gold span (of
answered), unanswerable abstained, false refusals, and the latency of the questions the model was
asked (p50 / p95), with the prompt's length in tokens. Run it on the *tuning* set (never reported
as a result of the evaluation sets).

  python bench/selector_candidates.py --data-dir /tmp/tuning-rag --questions Q.jsonl --gguf qwen.gguf \
      --counts 12,6 [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from answer_tuning import gold_spans  # noqa: E402


def main() -> None:
    from rag.answer.asking import ask, make_answerer
    from rag.library import Library
    from rag.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--questions", required=True, help="JSONL with question, answerable, gold_quotes")
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--counts", default="12,6")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--records", help="append one JSON line per question (a long run can be read before it ends)")
    args = ap.parse_args()
    os.environ["RAG_LLM_THREADS"] = str(args.threads)
    counts = [int(c) for c in args.counts.split(",")]
    items = [json.loads(x) for x in Path(args.questions).read_text().splitlines() if x.strip()]
    rows: dict[int, list[dict]] = {c: [] for c in counts}
    with Library(Settings(data_dir=Path(args.data_dir), progress=False)) as lib:
        impl = make_answerer(lib, "llm", llm_mode="select", llm_gguf=args.gguf)
        ask(lib, "What did Putin say about NATO?", answerer=impl)  # load the model once, outside the timings
        for i, item in enumerate(items):
            spans = gold_spans(lib, item)
            for count in counts if i % 2 == 0 else counts[::-1]:
                impl.candidates = count
                # llama.cpp reuses the prompt prefix of the last call (the question and the first
                # candidates are the same for every count): forget it, so each count pays its own prompt
                reset = getattr(getattr(impl.llm, "llama", None), "reset", None)
                if callable(reset):
                    reset()
                t0 = time.perf_counter()
                answer = ask(lib, item["question"], answerer=impl)
                seconds = time.perf_counter() - t0
                asked = not any("was not asked" in n for n in answer.notes)
                gold = any(c.doc_id == d and c.char_start < e and s < c.char_end
                           for c in answer.citations for d, s, e in spans)
                rows[count].append({"answerable": item["answerable"], "abstained": answer.abstained,
                                    "gold": gold, "seconds": seconds, "asked": asked})
            print(f"{i + 1}/{len(items)} " + " ".join(f"{c}: {rows[c][-1]['seconds']:.1f}s" for c in counts),
                  file=sys.stderr, flush=True)
            if args.records:
                with open(args.records, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"id": item.get("id"), **{str(c): rows[c][-1] for c in counts}}) + "\n")
    load = os.getloadavg()[0]
    print(f"{len(items)} questions; load average at the end {load:.1f}\n")
    print("| candidates shown | answered | answers citing a gold span | unanswerable abstained | false refusals "
          "| p50 / p95 s (model asked) |\n|---|---|---|---|---|---|")
    for c in counts:
        r = rows[c]
        pos = [x for x in r if x["answerable"]]
        neg = [x for x in r if not x["answerable"]]
        answered = [x for x in pos if not x["abstained"]]
        times = sorted(x["seconds"] for x in r if x["asked"])
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan")
        print(f"| {c} | {len(answered)} / {len(pos)} | {sum(x['gold'] for x in answered) / max(1, len(answered)):.3f} "
              f"| {sum(x['abstained'] for x in neg) / max(1, len(neg)):.3f} "
              f"| {1 - len(answered) / max(1, len(pos)):.3f} "
              f"| {statistics.median(times) if times else float('nan'):.1f} / {p95:.1f} |")


if __name__ == "__main__":
    main()
