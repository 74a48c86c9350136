"""The one collection layout both backends share: vector names, payload fields and their indexes."""

from __future__ import annotations

DENSE = "dense"
SPARSE = "bm25"

# payload field -> index kind ("keyword", "integer", "bool")
PAYLOAD_INDEXES: dict[str, str] = {
    "doc_id": "keyword",
    "speaker_key": "keyword",
    "source": "keyword",
    "doc_type": "keyword",
    "date_from": "integer",
    "date_to": "integer",
    "role": "keyword",
}
