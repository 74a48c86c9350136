"""`python -m training COMMAND`: mine, train-bi, train-ce, evaluate, export (see training/__init__)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

DEFAULT_DATA_ROOT = Path("../shared/data")
DEFAULT_OUT = Path("build/relevance")


def _offline() -> None:
    for var, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(var, value)


def log(message: str) -> None:
    """One timestamped progress line on stderr (the jobs run in the background with logs)."""
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def cmd_mine(args: argparse.Namespace) -> int:
    from rag.collection.ingestion import Ingestor
    from rag.models.embedding import Embedder
    from training.mining import mine, write_jsonl

    start = time.perf_counter()
    ingestor = Ingestor(None, None, Embedder(precision="fp32"))  # type: ignore[arg-type]  # only .chunk is used
    data = mine(args.data_root, Path.cwd(), ingestor.chunk, log=log)
    out: Path = args.out
    digests = {"passages.jsonl": write_jsonl(out / "passages.jsonl", data.passages),
               "examples.jsonl": write_jsonl(out / "examples.jsonl", data.examples)}
    summary = {"counts": data.counts, "sha256": digests, "seconds": round(time.perf_counter() - start, 1)}
    (out / "mining.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    log(json.dumps(summary, indent=1))
    return 0


def _load(out: Path):
    from training.mining import read_examples, read_passages

    return read_examples(out / "examples.jsonl"), read_passages(out / "passages.jsonl")


def cmd_train(args: argparse.Namespace) -> int:
    from training.vectors import text_key

    examples, passages = _load(args.out)
    train = [e for e in examples if e.split == "train"]
    train_passages = {k: p for k, p in passages.items() if p.split == "train"}
    log(f"{len(train)} training examples, {len(train_passages)} training passages")
    run_dir = args.out / args.name
    if args.kind == "adapter":
        from training.adapter import train_adapter
        from training.query_encoder import bank_order
        from training.vectors import VectorCache

        cache = VectorCache(args.out / "cache" / "minilm")
        queries = VectorCache(args.out / "cache" / "minilm-queries")
        # a training passage with the very text of a held-out one (a release published twice) stays out
        held_out = {text_key(p.text) for p in passages.values() if p.split == "val"}
        bank = [p for p in bank_order(examples, args.seed)
                if cache.has(passages[p].text) and text_key(passages[p].text) not in held_out][: args.bank]
        vectors = {e.qid: queries.rows[k] for e in train if (k := text_key(e.query)) in queries.rows}
        train_adapter(train, vectors, bank, cache.matrix([passages[p].text for p in bank]), run_dir,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      weight_decay=args.weight_decay, seed=args.seed, log=log)
    elif args.kind == "query":
        from training.query_encoder import bank_order, train_query_encoder
        from training.vectors import VectorCache

        cache = VectorCache(args.out / "cache" / "minilm")
        bank = [p for p in bank_order(examples, args.seed) if cache.has(passages[p].text)][: args.bank]
        if not bank:
            raise SystemExit("no training bank vectors: run `python -m training embed` first")
        train_query_encoder(train, bank, cache.matrix([passages[p].text for p in bank]), run_dir, steps=args.steps,
                            batch_size=args.batch_size, lr=args.lr, seed=args.seed, log=log)
    elif args.kind == "bi":
        from training.biencoder import train_biencoder

        train_biencoder(train, train_passages, run_dir, steps=args.steps, batch_size=args.batch_size,
                        lr=args.lr, seed=args.seed, frozen_layers=args.frozen_layers, log=log)
    else:
        from training.crossencoder import train_crossencoder

        train_crossencoder(train, train_passages, run_dir, steps=args.steps, batch_size=args.batch_size,
                           lr=args.lr, seed=args.seed, max_length=args.max_length, log=log)
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    """MiniLM vectors of the held-out passages, then of the training bank, saved in parts."""
    from rag.models.embedding import Embedder
    from training.query_encoder import bank_order
    from training.vectors import VectorCache

    examples, passages = _load(args.out)
    cache = VectorCache(args.out / "cache" / "minilm")
    embedder = Embedder(precision="fp32")
    val = sorted(p for p, v in passages.items() if v.split == "val")
    cache.fill([passages[p].text for p in val], embedder.embed, log, "held-out")
    bank = bank_order(examples, args.seed)[: args.bank]
    cache.fill([passages[p].text for p in bank], embedder.embed, log, "training bank")
    in_bank = set(bank)
    queries = [e.query for e in examples if e.split == "train" and e.positive in in_bank]
    VectorCache(args.out / "cache" / "minilm-queries").fill(queries, embedder.embed, log, "training queries")
    log(f"done: {len(val)} held-out and {len(bank)} bank passages, {len(queries)} training queries")
    return 0


def _named(values: list[str]) -> dict[str, Path]:
    out = {}
    for value in values:
        name, _, path = value.partition("=")
        if not path:
            raise SystemExit(f"expected NAME=PATH, got {value!r}")
        out[name] = Path(path)
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import markdown, run
    from training.validation import build_task

    examples, passages = _load(args.out)
    task = build_task(examples, passages, args.questions, args.seed)
    log(f"validation: {len(task.passages)} passages, {len(task.queries)} queries")
    dense = {n: (w, None) for n, w in _named(args.query).items()}
    dense.update({n: (w, w) for n, w in _named(args.bi).items()})
    report = run(task, args.out / "cache", dense, _named(args.ce), log, _named(args.adapter))
    report["load_average_end"] = os.getloadavg()
    path = args.report or args.out / "validation.json"
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(markdown(report, "test"))
    print(markdown(report, "all"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from training.export import export

    extra = json.loads(args.extra.read_text(encoding="utf-8")) if args.extra else None
    if args.kind == "query-adapter":
        from training.export import export_adapter

        info = export_adapter(args.checkpoint, args.folder, args.scale, extra)
    else:
        info = export(args.checkpoint, args.folder, args.kind, args.max_length, extra)
    log(json.dumps({k: v for k, v in info.items() if k in ("sha256", "bytes", "parameters")}))
    print(info["sha256"])
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from training.card import write_card

    mining = json.loads((args.out / "mining.json").read_text(encoding="utf-8"))
    info = json.loads((args.folder / "model.json").read_text(encoding="utf-8"))
    if info.get("kind") == "cross-encoder":
        if not args.results:
            raise SystemExit("a cross-encoder's card needs --results FILE: the measurements to state (markdown)")
        hyper = {k: info[k] for k in ("steps", "batch_size", "negatives", "lr", "max_length", "seed", "checkpoint")
                 if k in info}
        intro = ("A cross-encoder (relevance model) fine-tuned from all-MiniLM-L6-v2: BERT over \"question [SEP] "
                 "passage\" with one logit, trained listwise (softmax over the answer and three negatives: BM25 "
                 "hard negatives of the same press conference and of others, and another question's answer) on "
                 "the mined question -> answer pairs below. The extractive answerer scores each candidate "
                 "sentence, read with its neighbours after the passage's context header, and abstains by it "
                 "(`rag.answer.extractive`, `CE_WEIGHTS`, `CE_THRESHOLD`); it runs in numpy "
                 "(`rag.models.light_cross_encoder`). `$RAG_RELEVANCE_MODEL=0` answers without it.")
        notes = [args.results.read_text(encoding="utf-8")]
        print(write_card(args.folder, mining, None, [], intro, args.command, hyper, notes))
        return 0
    report = json.loads((args.report or args.out / "validation.json").read_text(encoding="utf-8"))
    info = json.loads((args.folder / "model.json").read_text(encoding="utf-8"))
    name = args.folder.name
    hyper = {k: info[k] for k in ("epochs", "batch_size", "lr", "weight_decay", "seed", "bank", "scale") if k in info}
    methods = ["bm25", "minilm", name, "rrf(bm25,minilm)", f"rrf(bm25,{name})"]
    intro = ("A query adapter for all-MiniLM-L6-v2: search queries are embedded by the light encoder as "
             "before, then mapped by q' = normalise(q + A q + b) (A 384 x 384, b 384). Passages and the "
             "index are untouched (no reindex). Trained with a softmax over the whole bank of training answer "
             "passages (every other answer of the same press conference among them: the hardest negatives "
             "BM25 would mine) on the mined question -> answer pairs below; off unless "
             "`$RAG_QUERY_ADAPTER` / `Settings.query_adapter` names it.")
    notes = [f"The adapter's `scale` ({info.get('scale', 1.0)}) shrinks the trained map towards plain MiniLM; "
             "it and the number of epochs were chosen on the `dev` half.",
             "Measured on the project's own evaluation sets (never trained or tuned on): see bench/RESULTS.md "
             "(`bench/query_adapter.py`)."]
    print(write_card(args.folder, mining, report, methods, intro, args.command, hyper, notes))
    return 0


def main(argv: list[str] | None = None) -> int:
    _offline()
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("mine", help="mine pairs and the validation task into --out")
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=cmd_mine)
    p = sub.add_parser("train", help="fine-tune a bi-encoder or a cross-encoder on the mined pairs")
    p.add_argument("kind", choices=("adapter", "query", "bi", "ce"),
                   help="adapter: a linear map on MiniLM query vectors; query: the query side of MiniLM, "
                        "both against the index's MiniLM passage vectors; bi: both sides; ce: cross-encoder")
    p.add_argument("--name", required=True, help="run folder under --out")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--steps", type=int, default=0, help="batches (query, bi, ce)")
    p.add_argument("--epochs", type=int, default=10, help="passes over the examples (adapter)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--weight-decay", type=float, default=0.01, help="AdamW's decoupled weight decay (adapter)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--bank", type=int, default=1_000_000, help="query: use at most this many bank passages")
    p.add_argument("--max-length", type=int, default=192, help="ce: tokens of question + passage read")
    p.add_argument("--frozen-layers", type=int, default=0,
                   help="bi: leave the embeddings and this many lower encoder layers untrained (faster steps)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("embed", help="MiniLM vectors of the held-out passages and the training bank")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--bank", type=int, default=1_000_000, help="embed at most this many bank passages")
    p.add_argument("--seed", type=int, default=13)
    p.set_defaults(func=cmd_embed)
    p = sub.add_parser("export", help="write a checkpoint as a committed fp16 model folder")
    p.add_argument("kind", choices=("query-adapter", "query-encoder", "bi-encoder", "cross-encoder"))
    p.add_argument("checkpoint", type=Path)
    p.add_argument("folder", type=Path)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--extra", type=Path, help="JSON object merged into model.json (training settings)")
    p.add_argument("--scale", type=float, default=1.0, help="query-adapter: multiply A and b by this (shrinkage)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("card", help="write MODEL_CARD.md of an exported model from the run's records")
    p.add_argument("folder", type=Path)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--report", type=Path, help="the validation report (default OUT/validation.json)")
    p.add_argument("--command", required=True, help="the command that rebuilds it")
    p.add_argument("--results", type=Path, help="cross-encoder: markdown of its measurements for the card")
    p.set_defaults(func=cmd_card)
    p = sub.add_parser("evaluate", help="the validation task: BM25, MiniLM, RRF and the given models")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--questions", type=int, default=400, help="held-out press questions sampled (all forms)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--query", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="a query-side model (passages keep their all-MiniLM-L6-v2 vectors)")
    p.add_argument("--adapter", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="a query adapter on all-MiniLM-L6-v2 query vectors")
    p.add_argument("--bi", action="append", default=[], metavar="NAME=WEIGHTS",
                   help="a bi-encoder that embeds passages too")
    p.add_argument("--ce", action="append", default=[], metavar="NAME=WEIGHTS")
    p.add_argument("--report", type=Path)
    p.set_defaults(func=cmd_evaluate)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
