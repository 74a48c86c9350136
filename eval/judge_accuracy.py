"""How far the grounding judge can be trusted: its accuracy on hand-labelled claim/evidence pairs.

`eval/datasets/judge_pairs.jsonl`: 69 pairs written by hand from the bundled sample, one
paragraph of a statement as evidence and three claims against it (`label`: supported,
unsupported, contradicted). A claim counts as supported when the judge's score reaches its
threshold; accuracy is supported-vs-not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answer.grounding import SupportJudge

PAIRS = Path(__file__).resolve().parent / "datasets" / "judge_pairs.jsonl"
LABELS = ("supported", "unsupported", "contradicted")


def load_pairs(path: Path = PAIRS) -> list[dict[str, str]]:
    """The labelled pairs; a malformed line is an error naming file:line."""
    rows: list[dict[str, str]] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(row, dict) or row.get("label") not in LABELS or not row.get("claim") \
                or not row.get("evidence"):
            raise ValueError(f"{path}:{number}: needs claim, evidence and label ({', '.join(LABELS)})")
        rows.append(row)
    return rows


def judge_accuracy(judge: "SupportJudge", pairs: list[dict[str, str]]) -> dict[str, Any]:
    """Accuracy of `judge` at its threshold, overall and per label, on `pairs`."""
    right: dict[str, int] = {label: 0 for label in LABELS}
    count: dict[str, int] = {label: 0 for label in LABELS}
    for row in pairs:
        said = judge.support(row["claim"], row["evidence"]) >= judge.threshold
        count[row["label"]] += 1
        right[row["label"]] += said == (row["label"] == "supported")
    total = sum(count.values())
    return {
        "judge": getattr(judge, "name", type(judge).__name__),
        "threshold": judge.threshold,
        "pairs": total,
        "accuracy": sum(right.values()) / total if total else None,
        "per_label": {label: (right[label] / count[label] if count[label] else None) for label in LABELS},
    }
