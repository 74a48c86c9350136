"""`rag check`: do the canonical store and the vector index agree? `--repair` makes them agree.

The store is the truth. A point is expected for every chunk row, with the same document,
chunk number, offsets and text; nothing else may be in the index. Documents on the store's
`pending` list were being written when a run stopped: their differences are expected, and
the next `rag ingest` (or `--repair`) puts the index back in line with the store for them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

from rag.collection.ingestion import Ingestor
from rag.index.backends import VectorStore
from rag.index.nodes import point_id
from rag.index.server_store import ServerVectorStore
from rag.store.store import Store

_KEYS = ["doc_id", "chunk", "char_start", "char_end", "_node_content"]


@dataclass
class CheckReport:
    """What `rag check` found (lists of ids), and what `--repair` did."""

    documents: int = 0
    chunks: int = 0
    points: int = 0
    pending: list[str] = field(default_factory=list)  # documents of an interrupted write
    orphan_points: dict[str, str] = field(default_factory=dict)  # point id -> its payload doc_id
    missing_points: dict[str, str] = field(default_factory=dict)  # chunk point id -> doc_id
    stale_points: dict[str, str] = field(default_factory=dict)  # payload disagrees with the chunk row
    duplicate_points: dict[str, str] = field(default_factory=dict)  # 2nd point for one (doc, chunk)
    empty_documents: list[str] = field(default_factory=list)  # documents without chunk rows
    bad_offsets: dict[str, str] = field(default_factory=dict)  # chunk text not at its offsets
    store_errors: list[str] = field(default_factory=list)  # SQLite quick_check
    repaired: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the store and the index agree and nothing is pending."""
        return not (self.pending or self.orphan_points or self.missing_points or self.stale_points
                    or self.duplicate_points or self.empty_documents or self.bad_offsets
                    or self.store_errors)

    def unexplained(self) -> dict[str, list[str]]:
        """Differences not covered by the pending list (after a crash this must be empty)."""
        pending = set(self.pending)
        out: dict[str, list[str]] = {}
        for name in ("orphan_points", "missing_points", "stale_points", "duplicate_points", "bad_offsets"):
            ids = sorted(pid for pid, doc in getattr(self, name).items() if doc not in pending)
            if ids:
                out[name] = ids
        empty = [d for d in self.empty_documents if d not in pending]
        if empty:
            out["empty_documents"] = empty
        if self.store_errors:
            out["store_errors"] = list(self.store_errors)
        return out

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [f"store: {self.documents} documents, {self.chunks} chunks; index: {self.points} points"]
        if self.store_errors:
            out.append("the SQLite store is damaged: " + "; ".join(self.store_errors[:5])
                       + " — restore a backup (`rag restore DIR`) or re-ingest into a new --data-dir")
        if self.pending:
            out.append(f"{len(self.pending)} documents of an interrupted write (pending): "
                       "the next `rag ingest` or `rag check --repair` finishes it")
        for name, what in (("orphan_points", "points without a chunk row (orphans)"),
                           ("missing_points", "chunk rows without a point"),
                           ("stale_points", "points whose payload disagrees with their chunk row"),
                           ("duplicate_points", "duplicate points for one chunk"),
                           ("bad_offsets", "chunks whose text is not at their offsets")):
            items = getattr(self, name)
            if items:
                docs = sorted(set(items.values()))
                out.append(f"{len(items)} {what}, in {len(docs)} documents: {', '.join(docs[:5])}"
                           + (" …" if len(docs) > 5 else ""))
        if self.empty_documents:
            out.append(f"{len(self.empty_documents)} documents without chunks: "
                       + ", ".join(self.empty_documents[:5]))
        for what, n in self.repaired.items():
            out.append(f"repaired: {n} {what}")
        if self.ok:
            out.append("ok: the store and the index agree")
        elif not self.repaired:
            out.append("run `rag check --repair` to fix this")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with `ok` and `unexplained`."""
        data = asdict(self)
        data["ok"] = self.ok
        data["unexplained"] = self.unexplained()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def scan_points(vectors: VectorStore) -> Iterator[tuple[str, dict[str, Any]]]:
    """(point id, payload with doc_id, chunk, offsets and text) of every point in the index."""
    if isinstance(vectors, ServerVectorStore):
        client, offset = vectors.client, None
        while True:
            records, offset = client.scroll(vectors.collection_name, limit=512, offset=offset,
                                            with_payload=_KEYS, with_vectors=False)
            for r in records:
                yield str(r.id), dict(r.payload or {})
            if offset is None:
                return
    import qdrant_edge as q

    shard, offset = vectors.client, None
    while True:
        records, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=512, with_vector=False,
                                                       with_payload=q.PayloadSelector.Include(_KEYS)))
        for r in records:
            yield str(r.id), dict(r.payload or {})
        if offset is None:
            return


def _point_text(payload: dict[str, Any]) -> str | None:
    try:
        return json.loads(payload.get("_node_content") or "{}").get("text")
    except (TypeError, ValueError):
        return None


def check(store: Store, vectors: VectorStore) -> CheckReport:
    """Compare every chunk row with its point, and every point with the store (read only)."""
    report = CheckReport(store_errors=store.integrity_errors())
    report.pending = store.pending_doc_ids()
    report.empty_documents = store.documents_without_chunks()
    report.documents = len(store.doc_ids())
    rows: dict[str, tuple[str, int, int, int]] = {}
    for r in store.chunk_rows():
        rows[r["point_id"]] = (r["doc_id"], r["idx"], r["char_start"], r["char_end"])
    report.chunks = len(rows)
    texts = _chunk_texts(store)
    seen_pairs: dict[tuple[str, int], str] = {}
    found: set[str] = set()
    for pid, payload in scan_points(vectors):
        report.points += 1
        doc_id = str(payload.get("doc_id") or "")
        pair = (doc_id, int(payload.get("chunk", -1)))
        if pair in seen_pairs:
            report.duplicate_points[pid] = doc_id
        seen_pairs.setdefault(pair, pid)
        row = rows.get(pid)
        if row is None:
            report.orphan_points[pid] = doc_id
            continue
        found.add(pid)
        expected = (row[0], row[1], row[2], row[3])
        actual = (doc_id, pair[1], payload.get("char_start"), payload.get("char_end"))
        if actual != expected or _point_text(payload) != texts.get(pid):
            report.stale_points[pid] = row[0]
    for pid, row in rows.items():
        if pid not in found:
            report.missing_points[pid] = row[0]
    report.bad_offsets = _bad_offsets(store)
    return report


def _chunk_texts(store: Store) -> dict[str, str]:
    return {r["point_id"]: r["text"] for r in store.conn.execute("SELECT point_id, text FROM chunks")}


def _bad_offsets(store: Store) -> dict[str, str]:
    bad: dict[str, str] = {}
    for doc_id in store.doc_ids():
        row = store.conn.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        text = row["text"]
        for c in store.conn.execute("SELECT point_id, text, char_start, char_end FROM chunks WHERE doc_id = ?",
                                    (doc_id,)):
            if text[c["char_start"]:c["char_end"]] != c["text"]:
                bad[c["point_id"]] = doc_id
    return bad


def repair(store: Store, vectors: VectorStore, ingestor: Ingestor) -> CheckReport:
    """Fix what `check` finds, the store being the truth; returns the check made afterwards
    with `repaired` filled in. Stored documents are never deleted: a document whose chunks are
    missing or wrong is re-chunked from its stored text, and its file is read again next time."""
    before = check(store, vectors)
    if before.store_errors:
        return before  # nothing sensible to do on a damaged store; the report says what to do
    repaired: dict[str, int] = {}
    if before.pending:
        ingestor.index_stored(before.pending)
        repaired["interrupted documents put back in line with the store"] = len(before.pending)
    pending = set(before.pending)
    orphans = [pid for pid, doc in before.orphan_points.items() if doc not in pending]
    if orphans:
        for start in range(0, len(orphans), 512):
            vectors.delete_nodes(node_ids=orphans[start:start + 512])
        vectors.flush()
        repaired["orphan points deleted"] = len(orphans)
    rechunk = sorted((set(before.empty_documents) | set(before.bad_offsets.values())) - pending)
    for doc_id in rechunk:
        doc = store.get_document(doc_id)
        if doc is None:
            continue
        chunks = ingestor.chunk(doc)
        if not chunks:
            continue
        store.put_documents([(doc, store.content_hash(doc_id) or "", chunks,
                              [point_id(doc_id, c.index) for c in chunks])], keep_pending=True)
        store.forget_source(doc.source_path)
    if rechunk:
        repaired["documents re-chunked from their stored text"] = len(rechunk)
    reembed = sorted((set(before.missing_points.values()) | set(before.stale_points.values())
                      | set(before.duplicate_points.values()) | set(rechunk)) - pending)
    reembed = [d for d in reembed if store.get_document(d) is not None]
    if reembed:
        chunks = ingestor.index_stored(reembed)
        for doc_id in reembed:
            doc = store.get_document(doc_id)
            if doc is not None:
                store.forget_source(doc.source_path)
        repaired[f"documents re-embedded ({chunks} chunks)"] = len(reembed)
    after = check(store, vectors)
    after.repaired = repaired
    return after
