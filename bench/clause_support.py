"""Abstention by clause support, on the *tuning* set (never reported as a result): a long sentence that
holds the answer in one clause ("I briefed Sergey Aleinik on the results of the meeting of the SCO Council
of Foreign Ministers held in Goa, India, and on the steps ...") has a low cosine with a short question.
Support = max(the sentence's cosine, its best clause's cosine) over the 10 best candidates (clauses of at
least 4 words between commas, semicolons, dashes, "and", "but", "which", ...); prints the best balanced-
accuracy cut for the cosine alone and with clauses, and abstention / false refusals at a few thresholds.

  python bench/clause_support.py /tmp/tuning-rag
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from answer_tuning import TUNING, ask_hits, best_cut  # noqa: E402

CLAUSE_SPLIT = re.compile(r"\s*(?:[,;:()–—]|\s-\s|\band\b|\bbut\b|\bwhich\b|\bwhere\b|\bwhile\b)\s*")
TOP = 10


def supports(lib, answerer, question: str) -> tuple[float, float]:
    """(best sentence cosine, best clause cosine) over the `TOP` best candidates `ask` would score."""
    cands = answerer.candidates(question, ask_hits(lib, question, 20)[0])
    answerer.score(cands)
    best = sorted((c for c in cands if c.eligible and c.words >= answerer.min_words), key=lambda c: -c.score)[:TOP]
    clauses = []
    for c in best:
        parts = [p for p in CLAUSE_SPLIT.split(c.text) if len(p.split()) >= 4]
        clauses.extend(parts if len(parts) > 1 else [])
    clause = -1.0
    if clauses:
        vectors = lib.embedder.embed_queries([question] + clauses)
        clause = float(np.max(vectors[1:] @ vectors[0]))
    return max((c.support for c in best), default=-1.0), clause


def main() -> None:
    from rag.answer.asking import make_answerer
    from rag.library import Library
    from rag.settings import Settings

    items = [json.loads(x) for x in TUNING.read_text().splitlines() if x.strip()]
    out = []
    with Library(Settings(data_dir=Path(sys.argv[1]), progress=False)) as lib:
        answerer = make_answerer(lib, "extractive")
        for item in items:
            cos, clause = supports(lib, answerer, item["question"])
            out.append((cos, max(cos, clause), item["answerable"]))
    print("cos", best_cut([(cos, a) for cos, _, a in out]))
    print("max(cos, clause)", best_cut([(both, a) for _, both, a in out]))
    pos = [both for _, both, a in out if a]
    neg = [both for _, both, a in out if not a]
    for t in (0.557, 0.58, 0.60, 0.62):
        print(t, f"abstained {sum(s < t for s in neg) / len(neg):.3f} FR {sum(s < t for s in pos) / len(pos):.3f}")


if __name__ == "__main__":
    main()
