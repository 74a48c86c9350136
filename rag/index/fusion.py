"""How far hybrid search trusts BM25 for one query.

Reciprocal rank fusion adds the two rankings' votes, so a passage that both lists hold outranks
one that only the dense list ranks first. For a question worded otherwise than the source, BM25's
list holds passages that share incidental words with it (a name, "Moscow"), which then outvote
the passage the dense model found. The signal: the share of the query's BM25 terms that BM25's
own best passage holds: BM25's weight is that share to the power POWER (1 when its best
passage holds every term; at least MIN_WEIGHT). Qdrant's weighted RRF stretches a list's ranks by
its weight, 1 / ((rank + 1) / w + k - 1), so a low weight pushes BM25's votes down its list. POWER
was chosen on the tuning set (`python bench/fusion_weights.py --data-dir DIR`; bench/RESULTS.md),
never on an evaluation set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.index.nodes import Hit
    from rag.index.sparse import Bm25Encoder

POWER = 4.0
MIN_WEIGHT = 0.01


def term_coverage(bm25: "Bm25Encoder", query: str, hit: "Hit") -> float:
    """Share of the query's BM25 terms (stemmed, stopwords out) in the hit's passage with the
    speaker, role and title its context header gives BM25; 0 for a query of no terms."""
    terms = bm25.query_terms(query)
    if not terms:
        return 0.0
    held = bm25.document_terms(" ".join(p for p in (hit.text, hit.speaker, hit.role, hit.title) if p))
    return len(terms & held) / len(terms)


def sparse_weight(coverage: float, power: float = POWER) -> float:
    """BM25's RRF weight (the dense one is 1) for a query whose best BM25 passage holds `coverage`
    of its terms."""
    return max(MIN_WEIGHT, min(1.0, coverage) ** power)
