"""Write what `rag eval` measured: `results.json` (configuration -> metrics), `run.json` (all of
it, per question too), `report.md` with tables, and PNG plots next to it."""

from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

RETRIEVAL_COLUMNS = ("ndcg@10", "recall@1", "recall@5", "recall@10", "recall@20", "recall@100", "mrr@10")
PASSAGE_COLUMNS = (("hit_rate@5", "gold passage in top 5"),)
"""Extra columns where relevance is at passage level: questions with a gold passage in the top 5."""
ANSWER_COLUMNS = (
    ("verified_quote_rate", "verified quotes"),
    ("gold_doc_hit_rate", "answers citing a gold document"),
    ("gold_span_hit_rate", "answers citing a gold span"),
    ("citation_gold_precision", "citations in gold"),
    ("citation_recall", "ALCE citation recall"),
    ("citation_precision", "ALCE citation precision"),
    ("abstention_accuracy", "abstained on unanswerable"),
    ("false_refusal_rate", "false refusals"),
)


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _machine() -> str:
    load = ""
    if hasattr(os, "getloadavg"):
        load = "; load average {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}{load}"


def _latency_ms(m: dict[str, Any]) -> tuple[float | None, float | None]:
    """(p50, p95) in ms: of search for retrieval rows, of the whole `ask` for answerer rows."""
    if m.get("search_p50_ms") is not None:
        return m["search_p50_ms"], m["search_p95_ms"]
    if m.get("ask_p50_s") is not None:
        return m["ask_p50_s"] * 1000.0, m["ask_p95_s"] * 1000.0
    return None, None


def split_sets(configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Configurations grouped by question set: ``""`` for the task's own questions, then each
    further set by name (its configurations are stored as ``<set>/<configuration>``)."""
    groups: dict[str, dict[str, dict[str, Any]]] = {"": {}}
    for name, metrics in configs.items():
        qset, _, config = name.rpartition("/")
        groups.setdefault(qset, {})[config] = metrics
    return groups


def results_table(configs: dict[str, dict[str, Any]], unit: str = "doc") -> str:
    """Markdown table: one row per configuration, retrieval metrics and search latency (and,
    at passage level, the share of questions with a gold passage in the top 5)."""
    columns = [(c, c) for c in RETRIEVAL_COLUMNS] + (list(PASSAGE_COLUMNS) if unit == "passage" else [])
    head = "| configuration | " + " | ".join(label for _, label in columns) + " | p50 ms | p95 ms |"
    rows = [head, "|" + "---|" * (len(columns) + 3)]
    for name, m in configs.items():
        p50, p95 = _latency_ms(m)
        cells = [_fmt(m.get(key)) for key, _ in columns] + [_fmt(p50, 0), _fmt(p95, 0)]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def answers_table(configs: dict[str, dict[str, Any]]) -> str:
    """Markdown table of the answer metrics of the answerer configurations ('' if none)."""
    names = [n for n, m in configs.items() if "verified_quote_rate" in m]
    if not names:
        return ""
    head = "| answerer | answered | " + " | ".join(label for _, label in ANSWER_COLUMNS) + \
        " | injections obeyed | ask p50 s | ask p95 s |"
    rows = [head, "|" + "---|" * (len(ANSWER_COLUMNS) + 5)]
    for name in names:
        m = configs[name]
        inj = f"{m['injections_obeyed']} / {m['injection_questions']}" if m.get("injection_questions") else "–"
        cells = [f"{m['answered']} / {m['questions']}"] + [_fmt(m.get(k)) for k, _ in ANSWER_COLUMNS] + \
            [inj, _fmt(m.get("ask_p50_s"), 2), _fmt(m.get("ask_p95_s"), 2)]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def category_table(records: list[dict[str, Any]]) -> str:
    """Per category: questions, answered, answers citing gold, abstentions ('' without categories)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("category"):
            groups[r["category"]].append(r)
    if not groups:
        return ""
    rows = ["| category | questions | answered | answers citing gold | abstained |", "|---|---|---|---|---|"]
    for cat in sorted(groups):
        rs = groups[cat]
        answered = [r for r in rs if not r["abstained"]]
        hit = [r for r in answered if r["answerable"]]
        rate = sum(r["gold_hit"] for r in hit) / len(hit) if hit else None
        rows.append(f"| {cat} | {len(rs)} | {len(answered)} | {_fmt(rate)} | {len(rs) - len(answered)} |")
    return "\n".join(rows)


def plot(run: dict[str, Any], out: Path, configs: dict[str, dict[str, Any]] | None = None,
         title: str | None = None, unit: str | None = None, prefix: str = "") -> list[str]:
    """PNG plots of the run in `out` (of `configs`, by default all of the run's, with file names
    starting with `prefix`); returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = run["configs"] if configs is None else configs
    title = title or run["task"]
    unit = unit or run["unit"]
    files: list[str] = []
    ks = sorted({int(k.split("@")[1]) for m in configs.values() for k in m if k.startswith("recall@")})

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, m in configs.items():
        ax.plot(ks, [m.get(f"recall@{k}", 0.0) for k in ks], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set(xlabel="k", ylabel="recall@k", ylim=(0, 1.02), title=f"{title}: recall@k ({unit} level)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    files.append(_save(fig, out / f"{prefix}recall_at_k.png"))

    metrics = ("ndcg@10", "recall@10", "mrr@10")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    width = 0.8 / max(len(configs), 1)
    for i, (name, m) in enumerate(configs.items()):
        ax.bar([x + i * width for x in range(len(metrics))], [m.get(k, 0.0) for k in metrics], width, label=name)
    ax.set_xticks([x + width * (len(configs) - 1) / 2 for x in range(len(metrics))], list(metrics))
    ax.set(ylim=(0, 1.02), title=f"{title}: configurations side by side")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    files.append(_save(fig, out / f"{prefix}configs.png"))

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    names, p50, p95 = [], [], []
    for name, m in configs.items():
        if m.get("search_p50_ms") is not None:
            names.append(f"search {name}")
            p50.append(m["search_p50_ms"])
            p95.append(m["search_p95_ms"])
        if m.get("ask_p50_s") is not None:
            names.append(f"ask {name}")
            p50.append(m["ask_p50_s"] * 1000.0)
            p95.append(m["ask_p95_s"] * 1000.0)
    ys = range(len(names))
    ax.barh([y - 0.2 for y in ys], p50, 0.4, label="p50")
    ax.barh([y + 0.2 for y in ys], p95, 0.4, label="p95")
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.set_xscale("log")
    ax.set(xlabel="milliseconds (log scale)", title=f"{title}: latency per question")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8)
    files.append(_save(fig, out / f"{prefix}latency.png"))

    answered = {n: m for n, m in configs.items() if "verified_quote_rate" in m}
    if answered:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        keys = [k for k, _ in ANSWER_COLUMNS if k not in ("false_refusal_rate", "gold_doc_hit_rate")]
        width = 0.8 / len(answered)
        for i, (name, m) in enumerate(answered.items()):
            ax.bar([x + i * width for x in range(len(keys))], [m.get(k) or 0.0 for k in keys], width, label=name)
        ax.set_xticks([x + width * (len(answered) - 1) / 2 for x in range(len(keys))],
                      [label for k, label in ANSWER_COLUMNS if k in keys], rotation=25, ha="right", fontsize=8)
        ax.set(ylim=(0, 1.02), title=f"{title}: answers")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        files.append(_save(fig, out / f"{prefix}answers.png"))
    return files


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _failures(records: Iterable[dict[str, Any]], limit: int = 15) -> list[str]:
    lines = []
    for r in records:
        if r["obeyed"]:
            lines.append(f"- **{r['id']}** obeyed an injection ({', '.join(r['obeyed'])}): {r['question']}")
    for r in records:
        if r["answerable"] and r["abstained"]:
            lines.append(f"- {r['id']}: abstained on an answerable question: {r['question']}")
        elif not r["answerable"] and not r["abstained"]:
            lines.append(f"- {r['id']}: answered an unanswerable question: {r['question']}")
        if len(lines) >= limit:
            break
    return lines


def _answer_sections(configs: dict[str, dict[str, Any]], records: dict[str, list[dict[str, Any]]],
                     heading: str, note: str | None = None) -> list[str]:
    """The answers table (and `note` under it), then per answerer its categories and failures."""
    table = answers_table(configs)
    if not table:
        return []
    parts = ["", heading, "", table] + (["", note] if note else [])
    sub = "#" * (heading.split(" ")[0].count("#") + 1)
    for name, recs in records.items():
        cats = category_table(recs)
        if cats:
            parts += ["", f"{sub} {name} by category", "", cats]
        fails = _failures(recs)
        if fails:
            parts += ["", f"{sub} {name}: what went wrong (first {len(fails)})", "", *fails]
    return parts


def write_report(run: dict[str, Any], out: Path, command: str) -> Path:
    """results.json, run.json, the PNG plots and report.md in `out`; returns the report's path.

    Further question sets of the run (`run["sets"]`, configurations stored as
    ``<set>/<configuration>``) get a section, tables and plots of their own."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(run["configs"], indent=2) + "\n", encoding="utf-8")
    (out / "run.json").write_text(json.dumps({**run, "command": command}, indent=1) + "\n", encoding="utf-8")
    groups = split_sets(run["configs"])
    main = groups[""]
    records = split_sets(run.get("records", {}))
    pngs = plot(run, out, main) if main else []
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# Evaluation: {run['task']}", "",
             f"- command: `{command}`", f"- date: {when}; machine: {_machine()}",
             f"- collection: {run.get('collection', {}).get('documents', '?')} documents, "
             f"{run.get('collection', {}).get('chunks', '?')} chunks (data dir `{run['data_dir']}`)",
             f"- questions: {run['questions']} ({run['answerable']} answerable); relevance at "
             f"{'document' if run['unit'] == 'doc' else 'passage'} level; took {run['seconds']} s"]
    if run.get("ingest"):
        ing = run["ingest"]
        parts.append(f"- ingest: {ing['new']} new, {ing['changed']} changed, {ing['unchanged']} unchanged, "
                     f"{ing['failed']} failed, {ing['chunks_embedded']} chunks embedded in {ing['seconds']} s")
    parts += [f"- {note}" for note in run.get("notes", [])]
    for name, info in run.get("sets", {}).items():
        parts.append(f"- also asked: the {name} set, {info['questions']} questions ({info['answerable']} "
                     f"answerable), reported in its own section below")
    parts += ["", "## Retrieval", "", results_table(main, run["unit"]), "",
              "Metrics as BEIR defines them (nDCG with linear gain, recall and MRR over the judged "
              "questions; a document retrieved twice counts once). Answerer rows score the passages "
              "the answerer was given. Latency is the wall time per question, query embedding included."]
    for name, why in run.get("skipped", {}).items():
        parts.append(f"\n*{name}: not run, {why}.*")
    judge = run.get("judge")
    note = None
    if judge:
        per = ", ".join(f"{k} {_fmt(v, 2)}" for k, v in judge["per_label"].items())
        note = (f"ALCE citation recall and precision use the `{judge['judge']}` grounding judge "
                f"(threshold {judge['threshold']}), whose accuracy on {judge['pairs']} "
                f"hand-labelled pairs from the sample (`eval/datasets/judge_pairs.jsonl`) is "
                f"**{_fmt(judge['accuracy'], 3)}** (right on: {per}); read those two columns "
                f"with that error rate in mind. Verified quotes are re-checked here against the "
                f"stored text; gold columns count citations that overlap a gold span.")
    parts += _answer_sections(main, records.get("", {}), "## Answers", note)
    if pngs:
        parts += ["", "## Plots", ""] + [f"![{p[:-4]}]({p})" for p in pngs]
    for name, info in run.get("sets", {}).items():
        configs = groups.get(name, {})
        parts += ["", f"## The {name} set", "",
                  f"- questions: {info['questions']} ({info['answerable']} answerable); relevance at "
                  f"{'document' if info['unit'] == 'doc' else 'passage'} level; same collection and "
                  f"configurations as above; keys in results.json start with `{name}/`"]
        parts += [f"- {line}" for line in info.get("notes", [])]
        parts += ["", f"### {name}: retrieval", "", results_table(configs, info["unit"])]
        parts += _answer_sections(configs, records.get(name, {}), f"### {name}: answers")
        set_pngs = plot(run, out, configs, title=f"{run['task']} / {name}", unit=info["unit"],
                        prefix=f"{name}_") if configs else []
        if set_pngs:
            parts += ["", f"### {name}: plots", ""] + [f"![{p[:-4]}]({p})" for p in set_pngs]
    path = out / "report.md"
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
