"""Chunks as llama-index nodes with the shared payload, and search hits read back from nodes or
straight from a point's payload (llama-index is imported only to make or read nodes)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingest.models import Chunk, Document
from rag.index.filters import date_bounds

if TYPE_CHECKING:
    from llama_index.core.schema import BaseNode, TextNode

_NAMESPACE = uuid.UUID("5b0c7d1e-8a43-4c55-9a57-2f1f2d6c9e10")
_SOURCE = "1"  # llama-index's NodeRelationship.SOURCE, the key of a node's document in its JSON


def point_id(doc_id: str, index: int) -> str:
    """Stable point id of a document's index-th chunk."""
    return str(uuid.uuid5(_NAMESPACE, f"{doc_id}#{index}"))


def chunk_metadata(doc: Document, chunk: Chunk) -> dict[str, Any]:
    """The payload fields stored with every point (filters use speaker_key, source, dates)."""
    meta: dict[str, Any] = {
        "title": doc.title or "", "speaker": chunk.speaker or "",
        "speaker_key": (chunk.speaker or "").lower(), "date": doc.date or "",
        "source": doc.source or "", "doc_type": doc.doc_type or "", "is_question": chunk.is_question,
        "role": "question" if chunk.is_question else "answer", "speaker_role": chunk.role or "",
        "turn": chunk.turn, "chunk": chunk.index, "char_start": chunk.char_start,
        "char_end": chunk.char_end, "source_url": doc.source_url or "", "place": doc.place or "",
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if doc.date:
        try:
            meta["date_from"], meta["date_to"] = date_bounds(doc.date[:10])
        except ValueError:
            pass
    return meta


def chunk_to_node(doc: Document, chunk: Chunk, embedding: list[float] | None = None,
                  context: str = "") -> "TextNode":
    """A TextNode whose text is exactly the chunk; what the index embeds and BM25 counts
    (`node.get_content(MetadataMode.EMBED)`) is the `context` header (`rag.index.context`) and the chunk."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    meta = chunk_metadata(doc, chunk)
    meta["context"] = context
    return TextNode(
        id_=point_id(doc.doc_id, chunk.index), text=chunk.text, metadata=meta, embedding=embedding,
        start_char_idx=chunk.char_start, end_char_idx=chunk.char_end,
        excluded_embed_metadata_keys=[k for k in meta if k != "context"], excluded_llm_metadata_keys=list(meta),
        metadata_template="{value}", text_template="{metadata_str}\n\n{content}",
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)},
    )


def index_text(node: "BaseNode") -> str:
    """What the index embeds and counts for a node: its context header and its text."""
    from llama_index.core.schema import MetadataMode

    return node.get_content(metadata_mode=MetadataMode.EMBED)


@dataclass
class Hit:
    """One retrieved passage with where it sits in its stored document."""

    doc_id: str
    title: str
    speaker: str
    date: str
    text: str
    score: float
    char_start: int
    char_end: int
    is_question: bool
    turn: int
    chunk: int
    source: str
    source_url: str
    place: str
    page: int | None
    point_id: str
    role: str = ""  # the speaker's office or capacity ("Foreign Minister")

    @classmethod
    def from_node(cls, node: "BaseNode", score: float) -> "Hit":
        """Read a hit back from a node returned by either vector store."""
        return cls._make(node.metadata, node.ref_doc_id or "", node.get_content(), score, node.node_id)

    @classmethod
    def from_payload(cls, point_id: str, payload: dict[str, Any], score: float) -> "Hit":
        """Read a hit straight from a point's payload as the vector stores write it (llama-index's
        `node_to_metadata_dict`: the node as JSON under `_node_content`), with no llama-index:
        the same fields `from_node` reads from the node rebuilt from that JSON."""
        node = json.loads(payload["_node_content"])
        source = (node.get("relationships") or {}).get(_SOURCE) or {}
        return cls._make(node.get("metadata") or {}, source.get("node_id") or "", node.get("text") or "",
                         score, node.get("id_") or point_id)

    @classmethod
    def _make(cls, m: dict[str, Any], doc_id: str, text: str, score: float, node_id: str) -> "Hit":
        return cls(
            doc_id=doc_id, title=m.get("title", ""), speaker=m.get("speaker", ""),
            date=m.get("date", ""), text=text, score=float(score),
            char_start=int(m["char_start"]), char_end=int(m["char_end"]),
            is_question=bool(m.get("is_question")), turn=int(m.get("turn", 0)),
            chunk=int(m.get("chunk", 0)), source=m.get("source", ""),
            source_url=m.get("source_url", ""), place=m.get("place", ""), page=m.get("page"),
            point_id=node_id, role=m.get("speaker_role", ""),
        )
