"""One Library shared by every browser tab, behind locks.

Thread safety of the parts is not guaranteed (one SQLite connection, a Hugging Face fast
tokenizer that raises "Already borrowed" when two threads encode at once, the Qdrant Edge
shard), so every Library call holds `lock`: reads are serialised, correctness before speed.
Writers (upload ingest, remove) also hold `write_lock` for their whole batch so two uploads
never interleave. `lock` is a `FairLock` (first come, first served), and an upload's ingestion
hands it to the waiting readers after every batch of `UPLOAD_BATCH_CHUNKS` passages (the store
and the index agree at that point) for as long as the batch itself took: a question waits for at
most one batch, not a whole file, and the upload gets about half of the time while questions come.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.models import Document
from ingest.readers import ReadLimits
from rag.answer.answers import Answer
from rag.answer.compare import Comparison
from rag.answer.first import FirstSaid
from rag.index.nodes import Hit
from rag.library import Library
from rag.store.lock import BusyError
from ui.fairlock import FairLock

log = logging.getLogger("ui")

UPLOAD_BATCH_CHUNKS = 32
"""Passages embedded and written per batch during an upload (readers get a turn after each)."""


@dataclass
class DocRow:
    """One line of the Library table."""

    doc_id: str
    title: str
    date: str
    speakers: list[str]
    passages: int
    source: str
    doc_type: str
    source_path: str


@dataclass
class FileResult:
    """What adding one uploaded file did: added, updated, unchanged or failed, and why."""

    name: str
    result: str
    details: str


class Service:
    """The web page's access to one Library."""

    def __init__(self, library: Library, limits: ReadLimits | None = None) -> None:
        self.library = library
        self.limits = limits or ReadLimits()
        self.lock = FairLock()
        self.write_lock = threading.Lock()

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are kept (inside the data dir)."""
        return self.library.settings.data_dir / "uploads"

    def warm_up(self) -> None:
        """Load the models now (one search, one question) so that the first user does not wait."""
        try:
            if self.stats().get("chunks"):
                self.search("warm up", k=1)
                self.ask("What was said about security?")
            else:
                self.library.embedder.embed_query("warm up")
        except Exception:  # noqa: BLE001 - a failed warm-up only costs the first user time
            log.warning("warm-up failed; the first request will load the models", exc_info=True)

    # -- reading --------------------------------------------------------------------------
    @contextmanager
    def reading(self, wait: float) -> Iterator[Library]:
        """The Library under `lock` for callers that would rather fail than queue for long (the REST
        API, the MCP tools): BusyError when the lock is not theirs within `wait` seconds."""
        if not self.lock.acquire(timeout=wait):
            raise BusyError(f"the library is busy (an upload is being indexed, or other requests are "
                            f"ahead; waited {wait:g} s): try again in a moment")
        try:
            yield self.library
        finally:
            self.lock.release()

    def speakers(self) -> list[dict[str, Any]]:
        """The collection's speaker identities (`Library.speakers`)."""
        with self.lock:
            return self.library.speakers()

    def sources(self) -> list[tuple[str, int]]:
        with self.lock:
            return [(s, n) for s, n in self.library.store.sources() if s]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return self.library.store.stats()

    def search(self, query: str, k: int = 10, **filters: Any) -> list[Hit]:
        with self.lock:
            return self.library.search(query, k=k, **filters)

    def ask(self, question: str, **filters: Any) -> Answer:
        with self.lock:
            return self.library.ask(question, **filters)

    def document(self, doc_id: str) -> Document | None:
        with self.lock:
            return self.library.document(doc_id)

    def compare(self, topic: str, speakers: list[str], **filters: Any) -> Comparison:
        with self.lock:
            return self.library.compare(topic, speakers, **filters)

    def first(self, phrase: str, **filters: Any) -> FirstSaid:
        with self.lock:
            return self.library.first(phrase, **filters)

    def catalog(self) -> list[DocRow]:
        """Every document with its passage count, newest first (read straight from the store)."""
        sql = ("SELECT d.doc_id, d.title, d.date, d.speakers, d.source, d.doc_type, d.source_path, "
               "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id) AS n "
               "FROM documents d ORDER BY COALESCE(d.date, '') DESC, d.title")
        with self.lock:
            rows = self.library.store.conn.execute(sql).fetchall()
        return [DocRow(r["doc_id"], r["title"] or r["doc_id"], r["date"] or "", json.loads(r["speakers"]),
                       int(r["n"]), r["source"] or "", r["doc_type"] or "", r["source_path"]) for r in rows]

    # -- writing --------------------------------------------------------------------------
    def add_file(self, path: Path, name: str) -> FileResult:
        """Ingest one stored upload; the caller holds `write_lock` for the batch."""
        held_since = 0.0

        def let_readers_in() -> None:
            nonlocal held_since
            self.lock.handoff(budget=time.monotonic() - held_since)
            held_since = time.monotonic()

        with self.lock:
            held_since = time.monotonic()
            report = self.library.ingest([path], limits=self.limits, progress=False,
                                         pause=let_readers_in, batch_chunks=UPLOAD_BATCH_CHUNKS)
        errors = [_mask(e, path, name) for e in report.errors]
        if report.failed and not (report.new or report.changed):
            with self.lock:
                if not self.library.store.doc_ids_for_source(str(path.resolve())):
                    path.unlink(missing_ok=True)  # keep no copy of a file that added nothing
            return FileResult(name, "failed", "; ".join(errors) or "could not be read")
        parts = []
        if report.new:
            parts.append(f"{report.new} document{'s' if report.new != 1 else ''} added")
        if report.changed:
            parts.append(f"{report.changed} updated")
        if report.unchanged:
            parts.append(f"{report.unchanged} already in the library")
        if report.removed:
            parts.append(f"{report.removed} removed")
        if report.chunks:
            parts.append(f"{report.chunks} passages indexed")
        if report.failed:
            parts.append(f"{report.failed} failed: " + "; ".join(errors))
        result = "added" if report.new else "updated" if report.changed else "unchanged"
        return FileResult(name, result, ", ".join(parts) or "nothing to add")

    def remove(self, doc_id: str) -> bool:
        """Remove a document; an uploaded file it came from is deleted once no document uses it."""
        with self.write_lock, self.lock:
            doc = self.library.document(doc_id)
            if doc is None:
                return False
            removed = self.library.remove(doc_id)
            source = Path(doc.source_path)
            try:
                inside = source.resolve().parent == self.uploads_dir.resolve()
            except OSError:
                inside = False
            if removed and inside and not self.library.store.doc_ids_for_source(str(source)):
                source.unlink(missing_ok=True)
            return removed


def _mask(message: str, path: Path, name: str) -> str:
    """An ingest error line without the server's folders in it."""
    for form in {str(path.resolve()), str(path)}:
        message = message.replace(form, name)
    return message
