"""The query adapter on the project's own evaluation sets: dense and hybrid retrieval over
data/sample with and without a committed query adapter (rag.models.relevance), same index, same
questions. The adapter is chosen on held-out mined documents (`python -m training evaluate`);
these sets only measure it, nothing is tuned on them.

    python bench/query_adapter.py --adapter build/relevance/export/statements-query-adapter \
        --data-dir .rag-eval/statements --out build/query_adapter.json

The data dir is the one `rag eval statements` builds (data/sample and the red-team documents
ingested); this script ingests nothing and reports per set (statements: documents; paraphrase:
passages) hit_rate@5 (gold in the top 5), MRR@10 and recall@5/@20.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEYS = ("hit_rate@5", "mrr@10", "recall@5", "recall@20")


def measure(data_dir: Path, adapter: str | None, configs: list[str]) -> dict:
    """set -> config -> metrics for one adapter setting (None: plain all-MiniLM-L6-v2 queries)."""
    from eval.runner import RunOptions, doc_qrels, passage_qrels, run_retrieval
    from eval.tasks import statements_task
    from rag.library import Library
    from rag.settings import Settings

    task = statements_task(data_dir)
    out: dict = {}
    with Library(Settings(data_dir=data_dir, progress=False, query_adapter=adapter)) as lib:
        if not lib.stats().get("chunks"):
            raise SystemExit(f"{data_dir} holds no passages: run `rag eval statements --data-dir {data_dir}` first")
        sets = {"statements": (task.load_items(lib), "doc")}
        for extra in task.extra_sets:
            sets[extra.name] = (extra.load_items(lib), extra.unit)
        for name, (items, unit) in sets.items():
            items = [i for i in items if i.answerable]
            qrels = passage_qrels(items, lib) if unit == "passage" else doc_qrels(items)
            out[name] = {"questions": len(items), "unit": unit}
            for config in configs:
                metrics, _ = run_retrieval(lib, items, config, unit, qrels, RunOptions(progress=False))
                out[name][config] = {k: metrics[k] for k in KEYS if k in metrics}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".rag-eval" / "statements")
    parser.add_argument("--adapter", required=True,
                        help="a committed adapter's name or an adapter folder/file (`make model` writes one)")
    parser.add_argument("--configs", default="dense,hybrid")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    started = time.perf_counter()
    results = {"base": measure(args.data_dir, None, configs), args.adapter: measure(args.data_dir, args.adapter, configs)}
    report = {"data_dir": str(args.data_dir), "adapter": args.adapter, "results": results,
              "seconds": round(time.perf_counter() - started, 1), "load_average": os.getloadavg()}
    for name in results["base"]:
        print(f"\n{name} ({results['base'][name]['questions']} answerable questions, {results['base'][name]['unit']}s)")
        print("| config | " + " | ".join(KEYS) + " |")
        print("|---|" + "---|" * len(KEYS))
        for config in configs:
            for setting in results:
                row = results[setting][name][config]
                label = config if setting == "base" else f"{config} + {setting}"
                print(f"| {label} | " + " | ".join(f"{row.get(k, float('nan')):.3f}" for k in KEYS) + " |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
