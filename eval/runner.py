"""Run one evaluation task: index its corpus into its data dir, then measure every configuration
(retrieval modes side by side, then each answerer) on the same questions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from eval.answer_scoring import AnswerRecord, percentile, score, summarise
from eval.judge_accuracy import judge_accuracy, load_pairs
from eval.metrics import dedupe, evaluate_run

if TYPE_CHECKING:
    from eval.dataset import EvalItem
    from eval.tasks import EvalTask
    from rag.library import Library

RETRIEVAL_CONFIGS = ("dense", "bm25", "hybrid", "hybrid+rerank")
ANSWERERS = ("extractive", "llm")
KS = (1, 5, 10, 20, 100)
CHUNKS_PER_DOC = 5
"""Chunks fetched per document wanted, when documents are ranked by their best chunk."""


@dataclass
class RunOptions:
    """Which configurations to run and how."""

    configs: Sequence[str] = ("dense", "bm25", "hybrid", "hybrid+rerank")
    answerers: Sequence[str] = ("extractive",)
    llm: dict[str, Any] = field(default_factory=dict)
    judge: str = "embedding"
    reranker: str | None = None
    depth: int = 100
    k_passages: int = 20
    limit: int | None = None
    progress: bool = True


def _bar(items: Sequence[Any], desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", disable=not enabled, dynamic_ncols=True)


def passage_qrels(items: Sequence["EvalItem"], lib: "Library") -> dict[str, dict[str, int]]:
    """Per question, the point ids of the chunks that overlap a gold span (relevance 1)."""
    chunks: dict[str, list[tuple[str, int, int]]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for item in items:
        rel: dict[str, int] = {}
        for span in item.gold_spans:
            if span.doc_id not in chunks:
                pids = lib.store.point_ids(span.doc_id)
                chunks[span.doc_id] = [(pid, c.char_start, c.char_end)
                                       for pid, c in zip(pids, lib.store.chunks(span.doc_id))]
            for pid, start, end in chunks[span.doc_id]:
                if start < span.char_end and span.char_start < end:
                    rel[pid] = 1
        qrels[item.id] = rel
    return qrels


def doc_qrels(items: Sequence["EvalItem"]) -> dict[str, dict[str, int]]:
    """Per question, its gold documents (relevance 1)."""
    return {item.id: {d: 1 for d in item.gold_docs} for item in items}


def _ranking(hits: Sequence[Any], unit: str, depth: int) -> list[str]:
    """Document ids (each at its best chunk) or passage ids, best first, at most `depth`."""
    return dedupe(h.doc_id if unit == "doc" else h.point_id for h in hits)[:depth]


def _latency(seconds: list[float], prefix: str) -> dict[str, float | None]:
    ms = [s * 1000.0 for s in seconds]
    return {f"{prefix}_p50_ms": percentile(ms, 50), f"{prefix}_p95_ms": percentile(ms, 95)}


def run_retrieval(lib: "Library", items: Sequence["EvalItem"], config: str, unit: str,
                  qrels: dict[str, dict[str, int]], opts: RunOptions) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Metrics of one retrieval configuration and its ranking per question."""
    mode = config.split("+")[0]
    rerank = config.endswith("+rerank")
    fetch = opts.depth * (CHUNKS_PER_DOC if unit == "doc" else 1)
    run: dict[str, list[str]] = {}
    times: list[float] = []
    for item in _bar(items, f"search {config}", opts.progress):
        t0 = time.perf_counter()
        hits = lib.search(item.question, k=fetch, mode=mode, rerank=rerank,  # type: ignore[arg-type]
                          **item.filters.as_kwargs())
        times.append(time.perf_counter() - t0)
        run[item.id] = _ranking(hits, unit, opts.depth)
    metrics: dict[str, Any] = evaluate_run(run, qrels, KS)
    metrics.update(_latency(times, "search"))
    metrics["search_k"] = fetch
    return metrics, run


def run_answers(lib: "Library", items: Sequence["EvalItem"], answerer: str, unit: str,
                qrels: dict[str, dict[str, int]], judge: Any,
                opts: RunOptions) -> tuple[dict[str, Any], list[AnswerRecord]]:
    """Ask every question with one answerer; answer metrics, plus retrieval metrics of the
    passages the answerer was given (hybrid, with the speaker hint, as `rag ask` retrieves)."""
    from rag.answer.asking import make_answerer

    impl = make_answerer(lib, answerer, **(opts.llm if answerer == "llm" else {}))
    entails = (lambda premise, claim: judge.support(claim, premise) >= judge.threshold) if judge else None
    records: list[AnswerRecord] = []
    run: dict[str, list[str]] = {}
    for item in _bar(items, f"ask {answerer}", opts.progress):
        t0 = time.perf_counter()
        answer = lib.ask(item.question, answerer=impl, k_passages=opts.k_passages,  # type: ignore[arg-type]
                         **item.filters.as_kwargs())
        seconds = time.perf_counter() - t0
        records.append(score(item, answer, seconds, lib.document, entails))
        run[item.id] = _ranking(answer.passages, unit, opts.depth)
    metrics: dict[str, Any] = evaluate_run(run, qrels, KS)
    metrics.update(summarise(records))
    return metrics, records


def run_task(task: "EvalTask", opts: RunOptions, lib: "Library | None" = None,
             embedder: Any = None) -> dict[str, Any]:
    """Everything `rag eval` reports for one task, as plain data (see `eval.report`).

    Opens the task's data dir (with `embedder`, if given, instead of loading the model again),
    or uses `lib` as it is when one is passed (it is left open).
    """
    from rag.library import Library
    from rag.settings import Settings

    if lib is not None:
        return _run(lib, task, opts)
    task.data_dir.mkdir(parents=True, exist_ok=True)
    # the benchmark's own embedded data dir; of the environment only $RAG_INDEX_CONTEXT,
    # $RAG_EMBED_MODEL and $RAG_FUSION apply (to measure passages indexed with and without their
    # context header, either index model, and either fusion)
    env = Settings.from_env(data_dir=task.data_dir)
    with Library(Settings(data_dir=task.data_dir, progress=opts.progress, index_context=env.index_context,
                          embed_model=env.embed_model, fusion=env.fusion), embedder=embedder) as own:
        return _run(own, task, opts)


def _qrels(items: Sequence["EvalItem"], unit: str, lib: "Library",
           given: dict[str, dict[str, int]] | None = None) -> dict[str, dict[str, int]]:
    """Relevance per question: the task's own qrels if it has them, else gold passages or documents."""
    if given is not None:
        return {i.id: given.get(i.id, {}) for i in items}
    return passage_qrels(items, lib) if unit == "passage" else doc_qrels(items)


def _run(lib: "Library", task: "EvalTask", opts: RunOptions) -> dict[str, Any]:
    from rag.answer.grounding import make_judge

    started = time.perf_counter()
    out: dict[str, Any] = {"task": task.name, "data_dir": str(lib.settings.data_dir), "unit": task.unit,
                           "notes": list(task.notes), "configs": {}, "skipped": {}, "records": {}, "sets": {}}
    if task.inputs:
        report = lib.ingest(task.inputs, progress=opts.progress)
        out["ingest"] = {"new": report.new, "changed": report.changed, "unchanged": report.unchanged,
                         "failed": report.failed, "chunks_embedded": report.chunks,
                         "seconds": round(report.seconds, 2), "errors": list(report.errors)}
    out["collection"] = {k: v for k, v in lib.stats().items() if k in ("documents", "chunks")}
    items = task.load_items(lib)[:opts.limit or None]
    if not items:
        raise ValueError(f"{task.name}: no questions to evaluate")
    out["questions"] = len(items)
    out["answerable"] = sum(1 for i in items if i.answerable)
    reranker = None
    if opts.reranker:
        from rag.answer.rerank import make_reranker

        reranker = make_reranker(opts.reranker, lib.embedder, lib.settings.relevance_model)
    judge = None
    if task.answers:
        judge = make_judge(opts.judge, embedder=lib.embedder, llm=_judge_llm(opts))
        out["judge"] = judge_accuracy(judge, load_pairs())
    _measure(lib, items, task.unit, _qrels(items, task.unit, lib, task.qrels), "", out, opts, reranker,
             judge, task.answers)
    for qset in task.extra_sets:
        extra = qset.load_items(lib)[:opts.limit or None]
        if not extra:
            raise ValueError(f"{task.name}: the {qset.name} set has no questions")
        out["sets"][qset.name] = {"questions": len(extra), "answerable": sum(1 for i in extra if i.answerable),
                                  "unit": qset.unit, "notes": list(qset.notes)}
        _measure(lib, extra, qset.unit, _qrels(extra, qset.unit, lib), f"{qset.name}/", out, opts, reranker,
                 judge, task.answers)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _measure(lib: "Library", items: Sequence["EvalItem"], unit: str, qrels: dict[str, dict[str, int]],
             prefix: str, out: dict[str, Any], opts: RunOptions, reranker: Any, judge: Any,
             answers: bool) -> None:
    """Every retrieval configuration, then every answerer, on one set of questions; results go
    into `out` under ``prefix + configuration``."""
    default_reranker = lib.reranker
    for config in opts.configs:
        if config.endswith("+rerank") and reranker is None and default_reranker is None:
            out["skipped"].setdefault(config, "no reranker chosen: no cross-encoder ships in a PyPI wheel "
                                              "(see MODELS.md); `--reranker maxsim` measures the one candidate")
            continue
        # only the +rerank configuration reranks; the others (and the answerers) see plain fusion
        lib.reranker = (reranker or default_reranker) if config.endswith("+rerank") else None
        try:
            metrics, _ = run_retrieval(lib, items, config, unit, qrels, opts)
        finally:
            lib.reranker = default_reranker
        if config.endswith("+rerank"):
            metrics["reranker"] = getattr(lib.reranker or reranker, "name", "custom")
        out["configs"][prefix + config] = metrics
    if not answers:
        return
    for answerer in opts.answerers:
        name = f"hybrid+{answerer}"
        if answerer == "llm" and not opts.llm:
            out["skipped"].setdefault(name, "no LLM given: pass --llm-gguf PATH or --llm-url URL --llm-model NAME")
            continue
        out["configs"][prefix + name], records = run_answers(lib, items, answerer, unit, qrels, judge, opts)
        out["records"][prefix + name] = [r.to_dict() for r in records]


def _judge_llm(opts: RunOptions) -> Any:
    if opts.judge != "llm":
        return None
    from rag.models.llm_backends import make_llm

    return make_llm(**{k: v for k, v in opts.llm.items() if k != "llm_mode"})
