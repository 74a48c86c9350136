"""Ingest files into the canonical store and the vector index, skipping what is already stored."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ingest.chunking import chunk_document
from ingest.jsonl import count_records
from ingest.models import Chunk, Document, ReadError
from ingest.readers import ReadLimits, file_format, iter_files, read_file
from ingest.structure import PARSER_VERSION, parse_document
from rag.collection.progress import Progress
from rag.index.backends import VectorStore
from rag.index.context import fitted_header, passage_context
from rag.index.nodes import chunk_to_node, index_text, point_id
from rag.models.embedding import Embedder
from rag.models.model_files import sha256_of
from rag.store.store import Store


@dataclass
class IngestReport:
    """What one ingest did, per document; `errors` holds one line per failure."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    recovered: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    optimize_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.failed == 0

    def summary(self) -> str:
        """The closing line printed after an ingest."""
        rate = self.chunks / self.seconds if self.seconds > 0 else 0.0
        line = (f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.removed} removed, {self.failed} failed; {self.chunks} chunks embedded "
                f"in {self.seconds:.1f} s ({rate:.1f} chunks/s)")
        if self.optimize_seconds:
            line += f"; search graph built in {self.optimize_seconds:.1f} s"
        if self.recovered:
            line += f"; finished the interrupted writes of {self.recovered} documents"
        return line

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


BATCH_CHUNKS = 256
"""Chunks embedded and written together (the unit of durability and of progress)."""


def embedded_nodes(items: Iterable[tuple[Document, Chunk]], embedder: Embedder, context: bool = True) -> list:
    """Index nodes of chunks with their vectors: each chunk with its context header (speaker,
    role, place, date, title, the question it answers; `rag.index.context`) fitted into the model's
    window, embedded as the index will hold it (`index_text`)."""
    nodes = []
    for doc, chunk in items:
        header = (fitted_header(passage_context(doc, chunk), chunk.text, embedder.count_tokens,
                                embedder.max_tokens) if context else "")
        nodes.append(chunk_to_node(doc, chunk, context=header))
    vectors = embedder.embed_passages([index_text(n) for n in nodes])
    for node, vector in zip(nodes, vectors):
        node.embedding = vector.tolist()
    return nodes


def content_hash(doc: Document) -> str:
    """Hash of everything stored about a document (text, structure, metadata)."""
    data = asdict(doc)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def invalid_unicode(doc: Document) -> str | None:
    """Why a document cannot be stored as UTF-8 (a lone surrogate, e.g. from a JSON "\\ud800"
    escape), or None; such a document would otherwise fail deep in the store or the index."""
    try:
        json.dumps(asdict(doc), ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"contains an invalid Unicode character (lone surrogate "
                f"U+{ord(exc.object[exc.start]):04X}) that cannot be stored")
    return None


@dataclass
class _Pending:
    doc: Document
    digest: str
    chunks: list[Chunk]
    is_new: bool


class Ingestor:
    """Runs one ingest: files → documents → chunks → embeddings → index, then the store.

    Order per batch, so that a run killed at any point loses nothing and leaves nothing behind:
    1. embed (nothing written yet);
    2. commit the batch's document ids to the store's `pending` list (write-ahead intent);
    3. delete the old points of changed documents, upsert the new ones, flush the index;
    4. commit documents and chunks in one transaction that also clears their `pending` marks;
    5. a file is marked done only after all its documents are committed.
    A killed run leaves its batch on the `pending` list; the next run first puts the index back
    in line with the store for those documents (`recover`), then re-reads the unfinished files.
    """

    def __init__(self, store: Store, vectors: VectorStore, embedder: Embedder,
                 limits: ReadLimits | None = None, target_tokens: int = 180,
                 overlap_sentences: int = 1, batch_chunks: int = BATCH_CHUNKS,
                 progress: Callable[[], Progress] | None = None,
                 pause: Callable[[], object] | None = None, context: bool = True) -> None:
        self.store, self.vectors, self.embedder = store, vectors, embedder
        self.context = context  # index each passage with its context header
        self.limits = limits or ReadLimits()
        self.target_tokens, self.overlap = target_tokens, overlap_sentences
        self.batch_chunks = batch_chunks
        self.pause = pause  # called after each durable batch
        self.progress_factory = progress or (lambda: Progress(enabled=False))
        self.report = IngestReport()
        self._pending: list[_Pending] = []

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks sized to the embedding model's token limit."""
        max_tokens = self.embedder.max_tokens
        return chunk_document(doc, self.embedder.count_tokens, max_tokens=max_tokens,
                              target_tokens=min(self.target_tokens, max_tokens),
                              overlap_sentences=self.overlap)

    def run(self, paths: Iterable[Path]) -> IngestReport:
        """Ingest files and folders; returns the report (errors included, never raises for bad input).

        With a visible progress bar the files are listed and their documents counted first
        (`expected_documents`), so that the bar shows the share done and the time left."""
        start = time.perf_counter()
        self.report.recovered = self.recover()
        items = [(root, item) for root in paths for item in iter_files([root])]
        bar = self.progress_factory()
        expected: dict[Path, int] = {}
        if bar.enabled:
            expected = {item: self.expected_documents(item) for _, item in items if not isinstance(item, ReadError)}
            bar.total = sum(expected.values())
        with bar:
            self._bar = bar
            for root, item in items:
                if isinstance(item, ReadError):
                    self._fail(str(item))
                    continue
                mark = bar.docs + expected.get(item, 0)
                self._ingest_file(item, item.relative_to(root).as_posix() if root.is_dir() else item.name)
                bar.settle(mark)  # records that failed or were skipped count as handled
            self._flush()
        self.report.seconds = time.perf_counter() - start
        return self.report

    def expected_documents(self, path: Path) -> int:
        """How many documents `path` will count for, before reading it: what the store holds for a
        file unchanged since its last ingest (same parser, size and mtime: `_ingest_file` skips it
        so), the records of a corpus file (.jsonl, .jsonl.gz), else 1."""
        try:
            st = path.stat()
            key = str(path.resolve())
        except OSError:
            return 1
        prev = self.store.source_state(key)
        if (prev is not None and prev["parser"] == PARSER_VERSION and prev["size"] == st.st_size
                and prev["mtime_ns"] == st.st_mtime_ns):
            return len(self.store.doc_ids_for_source(key))
        if file_format(path) == "jsonl":
            return count_records(path)
        return 1

    def _fail(self, message: str) -> None:
        self.report.failed += 1
        self.report.errors.append(message)
        self._bar.error(message)

    def _ingest_file(self, path: Path, file_key: str) -> None:
        key = str(path.resolve())
        try:
            st = path.stat()
        except OSError as exc:
            self._fail(f"{path}: cannot read ({exc.strerror}); check the path and permissions")
            return
        prev = self.store.source_state(key)
        if prev is not None and prev["parser"] != PARSER_VERSION:
            prev = None  # read by an older parser: parse it again (unchanged documents are not re-embedded)
        if prev is not None and prev["size"] == st.st_size and prev["mtime_ns"] == st.st_mtime_ns:
            self._unchanged_file(key)
            return
        try:
            sha = sha256_of(path)
        except OSError as exc:
            self._fail(f"{path}: cannot read ({exc.strerror}); check the path and permissions")
            return
        if prev is not None and prev["sha256"] == sha:
            self.store.set_source(key, st.st_size, st.st_mtime_ns, sha, PARSER_VERSION)
            self._unchanged_file(key)
            return
        seen: set[str] = set()
        failures = 0
        for raw in read_file(path, self.limits):
            if isinstance(raw, ReadError):
                failures += 1
                self._fail(str(raw))
                continue
            try:
                raw.key = file_key
                doc = parse_document(raw)
                doc.source_path = key
            except Exception as exc:  # a parser bug must not stop the run
                failures += 1
                self._fail(f"{raw.origin}: could not recover the statement's structure ({exc}); "
                           f"please report this file")
                continue
            bad = invalid_unicode(doc)
            if bad:
                failures += 1
                self._fail(f"{raw.origin}: {bad}; fix or remove this record")
                continue
            if doc.doc_id in seen:
                failures += 1
                self._fail(f"{raw.origin}: duplicate document id {doc.doc_id!r} in {path.name}; "
                           f"give each record a unique id")
                continue
            seen.add(doc.doc_id)
            self._add(doc)
        self._flush()
        if failures:
            return  # keep what was stored before; the file is read again next time
        gone = sorted(self.store.doc_ids_for_source(key) - seen)
        if gone:
            self.store.mark_pending(gone)
            for doc_id in gone:
                self.vectors.delete(doc_id)
            self.vectors.flush()
            for doc_id in gone:
                self.store.delete_document(doc_id)
                self.report.removed += 1
        self.store.set_source(key, st.st_size, st.st_mtime_ns, sha, PARSER_VERSION)

    def _unchanged_file(self, key: str) -> None:
        count = len(self.store.doc_ids_for_source(key))
        self.report.unchanged += count
        self._bar.advance(docs=count)

    def _add(self, doc: Document) -> None:
        digest = content_hash(doc)
        old = self.store.content_hash(doc.doc_id)
        if old == digest:
            self.report.unchanged += 1
            self._bar.advance(docs=1)
            return
        try:
            chunks = self.chunk(doc)
        except Exception as exc:
            self._fail(f"{doc.source_path}: {doc.doc_id}: could not split into passages ({exc})")
            return
        if not chunks:
            self._fail(f"{doc.source_path}: {doc.doc_id}: no text left to index after cleaning")
            return
        self._pending.append(_Pending(doc, digest, chunks, old is None))
        if sum(len(p.chunks) for p in self._pending) >= self.batch_chunks:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        texts = [c.text for p in pending for c in p.chunks]
        t0 = time.perf_counter()
        nodes = embedded_nodes([(p.doc, c) for p in pending for c in p.chunks], self.embedder, self.context)
        self.report.embed_seconds += time.perf_counter() - t0
        self.store.mark_pending([p.doc.doc_id for p in pending])
        for p in pending:
            if not p.is_new:
                self.vectors.delete(p.doc.doc_id)
        self.vectors.add(nodes)
        self.vectors.flush()  # the index is durable before the store says the chunks exist
        self.store.put_documents([(p.doc, p.digest, p.chunks,
                                   [point_id(p.doc.doc_id, c.index) for c in p.chunks]) for p in pending])
        for p in pending:
            if p.is_new:
                self.report.new += 1
            else:
                self.report.changed += 1
        self.report.chunks += len(texts)
        self._bar.advance(docs=len(pending), chunks=len(texts))
        if self.pause is not None:
            self.pause()

    def index_stored(self, doc_ids: Iterable[str]) -> int:
        """Make the index hold exactly the stored chunks of these documents: delete their points,
        re-embed their chunk rows from the store, flush, and take them off the pending list.
        Returns the number of chunks embedded."""
        ids = list(dict.fromkeys(doc_ids))
        done = 0
        for start in range(0, len(ids), 32):
            batch = ids[start:start + 32]
            items = []
            for doc_id in batch:
                self.vectors.delete(doc_id)
                doc = self.store.get_document(doc_id)
                if doc is None:
                    continue
                items.extend((doc, chunk) for chunk in self.store.chunks(doc_id))
            if items:
                self.vectors.add(embedded_nodes(items, self.embedder, self.context))
            self.vectors.flush()
            self.store.clear_pending(batch)
            done += len(items)
        return done

    def recover(self) -> int:
        """Finish what a killed run left on the pending list: for each such document the index
        is put back in line with what the store committed (its unfinished file is re-read by the
        next ingest). Returns the number of documents recovered."""
        pending = self.store.pending_doc_ids()
        if pending:
            self.index_stored(pending)
        return len(pending)
