"""`rag eval`: measure retrieval and answers on a benchmark or on your own collection.

    rag eval statements --out eval-out/statements        # bundled sets over data/sample (+ red team, paraphrase)
    rag eval beir ../shared/data/scifact --split train --out eval-out/scifact
    rag eval qmsum ../shared/data/qmsum_committee --split val --out eval-out/qmsum
    rag eval set my-questions.jsonl --data-dir .rag --out eval-out/mine
    rag eval turns --shared ../shared/data --out eval-out/turns   # speaker turns vs hand labels

Each benchmark is indexed into its own data dir (default `.rag-eval/<name>`; incremental, so a
second run embeds nothing); `set` evaluates the collection in `--data-dir` as it is.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Sequence

from eval.runner import ANSWERERS, RETRIEVAL_CONFIGS, RunOptions

DEFAULT_ROOT = Path(".rag-eval")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `rag eval` arguments (a subcommand per kind of evaluation)."""
    sub = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    p = sub.add_parser("statements", help="the bundled statements set over data/sample, red team included, "
                                          "and the paraphrase set beside it")
    p.add_argument("--corpus", type=Path, help="the sample folder (default: the project's data/sample)")
    p.add_argument("--no-redteam", action="store_true", help="leave the red-team documents and questions out")
    p.add_argument("--no-paraphrase", action="store_true", help="leave the paraphrase set out")
    _shared(p)
    p = sub.add_parser("beir", help="a BEIR folder (corpus, queries, qrels), retrieval only")
    p.add_argument("folder", type=Path)
    p.add_argument("--split", default="test")
    _shared(p)
    p = sub.add_parser("qmsum", help="QMSum meetings with gold turn spans")
    p.add_argument("folder", type=Path)
    p.add_argument("--split", default="val")
    _shared(p)
    p = sub.add_parser("set", help="an eval-set JSONL against the collection in --data-dir")
    p.add_argument("eval_set", type=Path)
    _shared(p)
    p = sub.add_parser("turns", help="speaker turns and who said them against hand-labelled turns "
                       "(eval/datasets/turns/*.jsonl)")
    p.add_argument("sets", nargs="*", type=Path, help="labelled-turn files (default: all of eval/datasets/turns)")
    p.add_argument("--shared", type=Path, default=Path("../shared/data"),
                   help="the folder the labelled corpora are in (default ../shared/data); "
                   "documents of this repository are found without it")
    p.add_argument("--split", default="all", help="only the documents of this split (dev, test2, ...; default all)")
    p.add_argument("--out", type=Path, required=True, help="folder for report.md and results.json")


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="folder for report.md, results.json and plots")
    p.add_argument("--data-dir", type=Path, help="where to index the benchmark (default .rag-eval/<name>; "
                   "for `set`: the collection, default ./.rag or $RAG_DATA_DIR)")
    p.add_argument("--configs", default=",".join(RETRIEVAL_CONFIGS),
                   help=f"retrieval configurations, comma-separated (default {','.join(RETRIEVAL_CONFIGS)})")
    p.add_argument("--answerers", default="extractive,llm",
                   help="answerers to run; llm runs only when a model is given (default extractive,llm)")
    p.add_argument("--reranker", choices=["maxsim", "ce"], help="the reranker of hybrid+rerank (none by default: "
                   "maxsim is the embedding-only candidate, ce the project's relevance model)")
    p.add_argument("--judge", choices=["embedding", "lexical", "llm"], default="embedding",
                   help="grounding judge for ALCE citation recall/precision (default embedding)")
    p.add_argument("--llm-gguf", help="a local GGUF model for the llm answerer (and --judge llm)")
    p.add_argument("--llm-url", help="an OpenAI-compatible server for the llm answerer")
    p.add_argument("--llm-model", help="model name on that server")
    p.add_argument("--llm-mode", choices=("write", "select"), help="the llm answerer writes (default) or "
                   "selects numbered candidate sentences")
    p.add_argument("--limit", type=int, help="only the first N questions (of each question set)")
    p.add_argument("--depth", type=int, default=100, help="ranking depth scored (default 100)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _names(value: str, allowed: Sequence[str], what: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    wrong = [n for n in names if n not in allowed]
    if wrong:
        raise ValueError(f"unknown {what}: {', '.join(wrong)} (choose from {', '.join(allowed)})")
    return names


def run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Build the task, run it, write the report; prints the headline table."""
    if args.kind == "turns":
        return _run_turns(args, argv)
    from eval import tasks
    from eval.report import results_table, answers_table, split_sets, write_report

    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be at least 1")
    if args.depth < 10:
        raise ValueError("--depth must be at least 10 (nDCG@10 needs ten ranks)")
    llm = {k: v for k, v in {"llm_gguf": args.llm_gguf, "llm_url": args.llm_url,
                             "llm_model": args.llm_model}.items() if v}
    if llm and getattr(args, "llm_mode", None):
        llm["llm_mode"] = args.llm_mode
    if args.judge == "llm" and not llm:
        raise ValueError("--judge llm needs --llm-gguf PATH or --llm-url URL")
    opts = RunOptions(configs=_names(args.configs, RETRIEVAL_CONFIGS, "configuration"),
                      answerers=_names(args.answerers, ANSWERERS, "answerer"), llm=llm,
                      judge=args.judge, reranker=args.reranker, depth=args.depth,
                      limit=args.limit, progress=not args.quiet)
    if args.kind == "statements":
        task = tasks.statements_task(args.data_dir or DEFAULT_ROOT / "statements", args.corpus,
                                     redteam=not args.no_redteam, paraphrase=not args.no_paraphrase)
    elif args.kind == "beir":
        task = tasks.beir_task(args.folder, args.split,
                               args.data_dir or DEFAULT_ROOT / f"beir-{args.folder.name}-{args.split}")
    elif args.kind == "qmsum":
        task = tasks.qmsum_task(args.folder, args.split, args.data_dir or DEFAULT_ROOT / f"qmsum-{args.split}")
    else:
        data_dir = args.data_dir or Path(os.environ.get("RAG_DATA_DIR") or ".rag")
        if not (data_dir / "store.sqlite3").exists():
            raise FileNotFoundError(f"no collection in {data_dir}: run `rag ingest PATH --data-dir {data_dir}` "
                                    "first, or point --data-dir at your collection")
        task = tasks.set_task(args.eval_set, data_dir)
    from eval.runner import run_task

    result = run_task(task, opts)
    command = "rag eval " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[2:]))
    path = write_report(result, args.out, command)
    groups = split_sets(result["configs"])
    for name, configs in groups.items():
        if name:
            info = result["sets"][name]
            print(f"\nthe {name} set ({info['questions']} questions, {info['answerable']} answerable; "
                  f"{info['unit']} level; results.json keys `{name}/...`):")
        print(results_table(configs, result["sets"][name]["unit"] if name else result["unit"]))
        table = answers_table(configs)
        if table:
            print()
            print(table)
    judge = result.get("judge")
    if judge:
        print(f"\ngrounding judge `{judge['judge']}`: accuracy {judge['accuracy']:.3f} on {judge['pairs']} "
              "hand-labelled pairs")
    for name, why in result.get("skipped", {}).items():
        print(f"{name}: not run ({why})")
    print(f"\nreport: {path}   results: {args.out / 'results.json'}")
    return 0


def _run_turns(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    """`rag eval turns`: parse the labelled documents as ingest does and score the turns."""
    import json

    from eval.turns import DEFAULT_SETS, load_turn_set, report_markdown, score
    from rag.models.embedding import Embedder

    paths = args.sets or DEFAULT_SETS
    if not paths:
        raise FileNotFoundError("no labelled-turn files: pass FILE.jsonl or add eval/datasets/turns/*.jsonl")
    docs = [d for d in load_turn_set(paths) if args.split in ("all", d.split)]
    if not docs:
        raise ValueError(f"no labelled document in split {args.split!r}: use dev, test2 or all")
    results = score(docs, args.shared, Embedder().count_tokens)
    command = "rag eval " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[2:]))
    args.out.mkdir(parents=True, exist_ok=True)
    report = report_markdown(results, command)
    (args.out / "report.md").write_text(report + "\n", encoding="utf-8")
    metrics = {conv: {split: t.metrics() for split, t in splits.items()} for conv, splits in results.items()}
    (args.out / "results.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(report.split("## Errors")[0].rstrip())
    print(f"\nreport: {args.out / 'report.md'}   results: {args.out / 'results.json'}")
    return 0
