"""`Library`: the Python API over one collection: ingest, search, show, remove, reindex, stats."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ingest.models import Document
from rag.answer.rerank import Reranker
from rag.collection.progress import Progress
from rag.index.backends import SearchIndex, VectorStore, as_vector_store, drop_vector_store, open_index
from rag.index.filters import SearchFilters
from rag.index.fusion import sparse_weight, term_coverage
from rag.index.index_query import IndexQuery, Mode
from rag.index.nodes import Hit, point_id
from rag.index.sparse import Bm25Encoder
from rag.models.embedding import MINILM, Embedder, is_index_model
from rag.settings import Settings
from rag.store.lock import BusyError, FileLock, index_lock, writer_lock
from rag.store.speakers import SpeakerIndex, SpeakerRow
from rag.store.store import Store

# Answering, ingesting, check and backup are imported inside the methods that use them, so that
# `rag search` does not load them (answering and ingesting add ~0.1-0.3 s to the import; check
# loads llama-index and qdrant-client): tests/test_read_path.py, bench/cold_start.py.
if TYPE_CHECKING:
    from ingest.readers import ReadLimits
    from rag.answer.answers import Answer
    from rag.answer.compare import Comparison
    from rag.answer.first import FirstSaid
    from rag.collection.check import CheckReport
    from rag.collection.ingestion import IngestReport, Ingestor
    from rag.models.relevance import CrossEncoder


TIE_MARGIN = 10
"""Hits fetched beyond those asked for, so that ties at the cut are broken the same way every time."""


class UnknownFilterValue(ValueError):
    """A --speaker or --source value that matches nothing in the collection."""


class Library:
    """A collection of statements on disk: the SQLite store plus the Qdrant index built from it.

    >>> lib = Library(Settings(data_dir=Path(".rag")))      # doctest: +SKIP
    >>> lib.ingest([Path("data/sample")]); lib.search("NATO expansion", speaker="Lavrov")
    """

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 reranker: Reranker | None = None, lock_wait: float = 0.0, rebuild: bool = False) -> None:
        """`rebuild`: open a collection indexed with another model or context setting, to `reindex`
        it with these settings (any other use of such a collection is refused)."""
        self.settings = settings or Settings.from_env()
        self.bm25 = Bm25Encoder()
        self.lock_wait = lock_wait  # seconds to wait for another process's lock (0: fail at once)
        self.writer_lock: FileLock = writer_lock(self.settings.data_dir)
        self._index_lock: FileLock | None = None
        self._vectors: VectorStore | None = None
        self.store = Store(self.settings.store_path)
        try:
            self.embedder = embedder or Embedder(self._index_model(), self.settings.embed_batch_size,
                                                 self.settings.embed_precision, self.settings.query_adapter)
            if not rebuild:
                self.store.check_model(self.embedder.name, self.embedder.dimension)
                self.store.check_index_context(self.settings.index_context)
            self.index: SearchIndex = self._open_index()
        except BaseException:
            self.store.close()
            raise
        self.reranker = reranker
        self._speaker_index: tuple[tuple[int, int], SpeakerIndex] | None = None
        self._relevance: CrossEncoder | None = None

    def _index_model(self) -> str:
        """The index model the settings name, else the one this collection was indexed with, else
        the default (a model this version does not know is left to `check_model` to refuse)."""
        stored = self.store.get_meta("embed_model")
        return self.settings.embed_model or (stored if stored and is_index_model(stored) else MINILM)

    def relevance_model(self) -> "CrossEncoder | None":
        """The answerer's relevance model (`Settings.relevance_model`), opened on first use; None
        when the settings name none."""
        if self.settings.relevance_model is None:
            return None
        if self._relevance is None:
            from rag.models.relevance import open_relevance_model

            self._relevance = open_relevance_model(self.settings.relevance_model)
        return self._relevance

    @property
    def vectors(self) -> VectorStore:
        """The index as a llama-index vector store (what ingest, check and repair write through),
        made on first use over the open `index`: searching never needs it."""
        if self._vectors is None:
            self._vectors = as_vector_store(self.index, self.settings, self.embedder.dimension)
        return self._vectors

    @vectors.setter
    def vectors(self, store: VectorStore) -> None:
        self._vectors = store
        self.index = getattr(store, "edge_index", store)

    def _open_index(self) -> SearchIndex:
        """Open the index; the embedded one under `index.lock`, so that a second process gets a
        message naming the one that has it open rather than the engine's WAL error."""
        if self.settings.qdrant_url:
            return open_index(self.settings, self.embedder.dimension, self.bm25)
        self._index_lock = index_lock(self.settings.data_dir).acquire(self.lock_wait)
        try:
            return self._open_edge()
        except Exception as exc:
            self._index_lock.release()
            self._index_lock = None
            if "WouldBlock" in str(exc):
                raise BusyError(f"the index in {self.settings.edge_path} is open in another process "
                                f"(Qdrant Edge lets one process at a time open it): try again when "
                                f"it finishes") from exc
            raise

    def _open_edge(self, retry: bool = True) -> SearchIndex:
        """Open the Qdrant Edge shard. A new shard is made in a hidden folder and renamed into
        place, so that a kill while it is being made never leaves a half-made shard (which
        Qdrant Edge refuses to load). A shard left half-made by an older version (no segments,
        nothing in it) is moved aside and made again; the stored documents are then marked
        pending, so the next `rag ingest` or `rag check --repair` re-embeds them."""
        path = self.settings.edge_path
        if not path.exists() or not any(path.iterdir()):
            staging = self.settings.data_dir / ".new-index"
            shutil.rmtree(staging, ignore_errors=True)
            open_index(replace(self.settings, data_dir=staging), self.embedder.dimension, self.bm25).close()
            if path.exists():
                path.rmdir()
            (staging / path.name).rename(path)
            shutil.rmtree(staging, ignore_errors=True)
        try:
            return open_index(self.settings, self.embedder.dimension, self.bm25)
        except Exception as exc:
            if not retry or "no segments were loaded" not in str(exc):
                raise
            path.rename(path.with_name(f".{path.name}-unloadable-{time.strftime('%Y%m%d-%H%M%S')}"))
            if self.store.doc_ids():
                self.store.mark_all_pending()
            return self._open_edge(retry=False)

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush the index and close the store."""
        self.index.close()
        self.store.close()
        if self._index_lock is not None:
            self._index_lock.release()
            self._index_lock = None

    # -- writing --------------------------------------------------------------------------
    def ingest(self, paths: Iterable[Path | str], limits: "ReadLimits | None" = None,
               progress: bool | None = None, pause: Callable[[], object] | None = None,
               batch_chunks: int | None = None) -> "IngestReport":
        """Read files and folders, store new and changed documents, index their chunks.

        `pause` is called after every batch is durable in the store and the index (the web page
        lets waiting readers in there); `batch_chunks` sets the batch size (default `BATCH_CHUNKS`).
        """
        show = self.settings.progress if progress is None else progress
        with self.writer_lock.hold(self.lock_wait, "ingest"):
            report = self._ingestor(limits, show, pause, batch_chunks).run([Path(p) for p in paths])
            if report.chunks:
                report.optimize_seconds = self._optimize_if_due(show)
            return report

    def _optimize_if_due(self, show: bool) -> float:
        """Build the HNSW graphs of the embedded shard once `settings.optimize_after` passages
        are searched by a full scan (a server does this itself); the seconds it took, 0 if not due."""
        waiting = self.vectors.unindexed()
        if not self.settings.optimize_after or waiting < self.settings.optimize_after:
            return 0.0
        t0 = time.perf_counter()
        self._optimize(waiting, show)
        return time.perf_counter() - t0

    def _optimize(self, waiting: int, show: bool) -> bool:
        """`vectors.optimize()`, announced when `waiting` passages are outside a graph."""
        if show and waiting:
            print(f"building the search graph over {waiting:,} passages (a one-off; minutes for "
                  f"hundreds of thousands)...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        changed = self.vectors.optimize()
        if show and waiting:
            print(f"search graph built in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return changed

    def optimize(self, progress: bool | None = None) -> dict[str, Any]:
        """Merge the embedded shard's segments and build every HNSW graph now (`rag optimize`);
        returns the passages that were outside a graph before and after, and the seconds taken."""
        show = self.settings.progress if progress is None else progress
        with self.writer_lock.hold(self.lock_wait, "optimize"):
            before = self.vectors.unindexed()
            t0 = time.perf_counter()
            changed = self._optimize(before, show)
            return {"unindexed_before": before, "unindexed_after": self.vectors.unindexed(),
                    "optimized": changed, "seconds": round(time.perf_counter() - t0, 3)}

    def _ingestor(self, limits: "ReadLimits | None" = None, show: bool = False,
                  pause: Callable[[], object] | None = None, batch_chunks: int | None = None) -> "Ingestor":
        from rag.collection.ingestion import BATCH_CHUNKS, Ingestor

        return Ingestor(self.store, self.vectors, self.embedder, limits,
                        target_tokens=self.settings.chunk_target_tokens,
                        overlap_sentences=self.settings.chunk_overlap_sentences,
                        batch_chunks=batch_chunks or BATCH_CHUNKS,
                        progress=lambda: Progress(enabled=show), pause=pause,
                        context=self.settings.index_context)

    def remove(self, doc_id: str) -> bool:
        """Delete one document from the store and the index; False if it was not there."""
        with self.writer_lock.hold(self.lock_wait, "remove"):
            self._ingestor().recover()
            doc = self.store.get_document(doc_id)
            if doc is None:
                return False
            self.store.mark_pending([doc_id])
            self.vectors.delete(doc_id)
            self.vectors.flush()
            self.store.delete_document(doc_id)
            self.store.forget_source(doc.source_path)
            return True

    def reindex(self, progress: bool | None = None) -> int:
        """Rebuild every vector from the stored documents (after a model change); returns chunks."""
        show = self.settings.progress if progress is None else progress
        with self.writer_lock.hold(self.lock_wait, "reindex"):
            # every document is pending until its new points are flushed and its rows committed:
            # a killed reindex is finished by the next writer (or `rag reindex` again)
            from ingest.structure import reparse
            from rag.collection.ingestion import Ingestor

            self.store.mark_all_pending()
            # recorded first: a killed reindex is finished with the model and setting it started with
            self.store.set_model(self.embedder.name, self.embedder.dimension)
            self.store.set_meta("index_context", "1" if self.settings.index_context else "0")
            drop_vector_store(self.index, self.settings)
            self._vectors = None
            self.index = (open_index(self.settings, self.embedder.dimension, self.bm25)
                          if self.settings.qdrant_url else self._open_edge())
            ingestor = Ingestor(self.store, self.vectors, self.embedder, context=self.settings.index_context)
            total = 0
            with Progress(enabled=show, desc="reindex", total=len(self.store.doc_ids())) as bar:
                batch: list[tuple[Document, list]] = []
                for stored in self.store.iter_documents():
                    doc = reparse(stored)
                    batch.append((doc, ingestor.chunk(doc)))
                    if sum(len(c) for _, c in batch) >= 256:
                        total += self._reindex_batch(batch, bar)
                        batch = []
                total += self._reindex_batch(batch, bar)
            self._optimize_if_due(show)
            return total

    def _reindex_batch(self, batch: list[tuple[Document, list]], bar: "Progress") -> int:
        """Embed and index a batch of re-chunked documents, flush, then commit their rows."""
        from rag.collection.ingestion import content_hash, embedded_nodes

        if not batch:
            return 0
        texts = [c.text for _, chunks in batch for c in chunks]
        self.vectors.add(embedded_nodes([(doc, c) for doc, chunks in batch for c in chunks], self.embedder,
                                        self.settings.index_context))
        self.vectors.flush()
        self.store.put_documents([(doc, content_hash(doc), chunks,
                                   [point_id(doc.doc_id, c.index) for c in chunks]) for doc, chunks in batch])
        bar.advance(docs=len(batch), chunks=len(texts))
        return len(texts)

    # -- safety ---------------------------------------------------------------------------
    def check(self, repair: bool = False) -> "CheckReport":
        """Compare the store and the index (`rag check`); `repair` makes them agree, the store
        being the truth (orphan points deleted, missing or stale ones re-embedded, an
        interrupted write finished, affected files read again by the next ingest)."""
        from rag.collection.check import check, repair as fix

        with self.writer_lock.hold(self.lock_wait, "check --repair" if repair else "check"):
            if repair:
                return fix(self.store, self.vectors, self._ingestor())
            return check(self.store, self.vectors)

    def backup(self, dest: Path | str) -> dict[str, Any]:
        """Copy the store and the index into a new folder (`rag backup DIR`); returns the manifest."""
        from rag.collection.backup import backup

        return backup(self, Path(dest))

    @staticmethod
    def restore(src: Path | str, settings: Settings, force: bool = False,
                wait: float = 0.0) -> dict[str, Any]:
        """Restore a backup into `settings.data_dir` (`rag restore DIR`), which must be empty
        unless `force` (the present files are then moved aside, not deleted)."""
        from rag.collection.backup import restore

        return restore(Path(src), settings, force=force, wait=wait)

    # -- reading --------------------------------------------------------------------------
    def speaker_index(self) -> SpeakerIndex:
        """The collection's speaker identities (one per person, with aliases), rebuilt when the
        store changes."""
        version = self.store._version()
        if self._speaker_index is None or self._speaker_index[0] != version:
            rows = [SpeakerRow(**r) for r in self.store.speaker_rows()]
            self._speaker_index = (version, SpeakerIndex(rows))
        return self._speaker_index[1]

    def speakers(self) -> list[dict[str, Any]]:
        """Every speaker identity with its aliases, roles, passages, documents and date range,
        most passages first (`rag speakers --json`)."""
        return [ident.to_dict() for ident in self.speaker_index().identities]

    def resolve_speakers(self, names: Iterable[str]) -> list[str]:
        """The stored speaker names (every alias) of the identities each given name matches: a
        full name, a surname, an alias ("President Trump") or part of one, case and accents ignored."""
        index = self.speaker_index()
        found: list[str] = []
        for name in names:
            matches = index.match(name)
            if not matches:
                known = [i.name for i in index.identities if i.kind == "person"][:12]
                hint = ", ".join(known) or "none yet: ingest some documents first"
                raise UnknownFilterValue(f"no speaker matches {name!r}; known speakers include: {hint} "
                                         f"(`rag speakers` lists them all)")
            for ident in matches:
                found.extend(a for a in ident.aliases if a not in found)
        return found

    def resolve_sources(self, names: Iterable[str]) -> list[str]:
        """Known source labels matching each given name (case-insensitive substring)."""
        known = [s for s, _ in self.store.sources() if s]
        return _resolve(names, known, "source")

    def search(self, query: str, k: int = 10, speaker: str | list[str] | None = None,
               since: str | None = None, until: str | None = None,
               source: str | list[str] | None = None, mode: Mode = "hybrid",
               rerank: bool = True, answers_only: bool = False) -> list[Hit]:
        """Ranked passages for a plain-English query, narrowed by the given filters."""
        if not query or not query.strip():
            raise ValueError("empty query: type a question or some words to search for")
        if k < 1:
            raise ValueError("k must be at least 1")
        filters = SearchFilters(
            speakers=self.resolve_speakers(_as_list(speaker)) if speaker else None,
            sources=self.resolve_sources(_as_list(source)) if source else None,
            since=since, until=until, answers_only=answers_only,
        )
        use_rerank = rerank and self.reranker is not None
        fetch = max(k, self.reranker.depth) if use_rerank and self.reranker else k
        hits = self.index.search(IndexQuery(
            # BM25 alone needs no query vector: do not run the model for it
            text=query, dense=None if mode == "bm25" else self.embedder.embed_search_query(query),
            k=fetch + TIE_MARGIN, prefetch_k=max(self.settings.prefetch_limit, fetch + TIE_MARGIN), mode=mode,
            filters=filters, sparse_weight=self.fusion_weight(query, filters) if mode == "hybrid" else 1.0,
        ))
        # equal scores (RRF gives many) come back in any order: break ties by point id, so that the
        # same query on the same passages always ranks them alike, on either engine
        hits = sorted(hits, key=lambda h: (-round(h.score, 9), h.point_id))[:fetch]
        index = self.speaker_index()
        for hit in hits:
            hit.speaker = index.canonical(hit.speaker) or hit.speaker
        if use_rerank and self.reranker is not None:
            hits = self.reranker.rerank(query, hits)
        return hits[:k]

    def fusion_weight(self, query: str, filters: SearchFilters | None = None) -> float:
        """BM25's weight in a hybrid search for `query` (rag.index.fusion): from the term coverage
        of BM25's best passage under the same filters; 1 with `Settings.fusion` "fixed"."""
        if self.settings.fusion == "fixed":
            return 1.0
        best = self.index.search(IndexQuery(text=query, dense=None, k=1, prefetch_k=1, mode="bm25",
                                            filters=filters or SearchFilters()))
        if not best:
            return 1.0
        return sparse_weight(term_coverage(self.bm25, query, best[0]))

    def ask(self, question: str, speaker: str | list[str] | None = None, since: str | None = None,
            until: str | None = None, source: str | list[str] | None = None,
            answerer: str = "extractive", **options: Any) -> "Answer":
        """An answer in the speakers' own words, every quote verified against its stored source."""
        from rag.answer.asking import ask

        return ask(self, question, speaker=speaker, since=since, until=until, source=source,
                   answerer=answerer, **options)

    def compare(self, topic: str, speakers: list[str], since: str | None = None, until: str | None = None,
                source: str | list[str] | None = None, k: int = 3) -> "Comparison":
        """Per speaker, their best verified quotes on the topic, side by side (`rag compare`)."""
        from rag.answer.compare import compare

        return compare(self, topic, speakers, since=since, until=until, source=source, k=k)

    def first(self, phrase: str, speaker: str | list[str] | None = None, since: str | None = None,
              until: str | None = None, source: str | list[str] | None = None, k: int = 10) -> "FirstSaid":
        """The earliest verified occurrences of a phrase or claim, the first statement marked (`rag first`)."""
        from rag.answer.first import first_said

        return first_said(self, phrase, speaker=speaker, since=since, until=until, source=source, k=k)

    def document(self, doc_id: str) -> Document | None:
        """The stored document (text, metadata, turns), or None; its speakers are named by their
        identity in the collection ("President Trump" in one transcript is "Donald Trump")."""
        doc = self.store.get_document(doc_id)
        if doc is None:
            return None
        index = self.speaker_index()
        for turn in doc.turns:
            if turn.speaker and not turn.is_question:
                turn.speaker = index.canonical(turn.speaker)
        doc.speakers = list(dict.fromkeys(index.canonical(s) or s for s in doc.speakers))
        return doc

    def stats(self) -> dict[str, Any]:
        """Counts of documents, chunks, speakers; the model; the index backend and its point count."""
        from ingest.structure import PARSER_VERSION

        info = self.store.stats()
        people = self.speakers()
        info["speakers"] = len(people)
        info["top_speakers"] = [{"speaker": p["speaker"], "chunks": p["passages"]} for p in people[:10]]
        outdated = self.store.outdated_documents(PARSER_VERSION)
        if outdated:
            info["outdated_structure"] = {"documents": len(outdated), "parser": PARSER_VERSION,
                                          "fix": "rag reindex (or rag ingest of their files) parses them again"}
        info["index"] = {"backend": "qdrant-server" if self.settings.qdrant_url else "qdrant-edge",
                         "location": self.settings.qdrant_url or str(self.settings.edge_path),
                         "points": self.index.count()}
        info["data_dir"] = str(self.settings.data_dir)
        return info


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _resolve(names: Iterable[str], known: list[str], what: str) -> list[str]:
    found: list[str] = []
    for name in names:
        needle = name.strip().lower()
        exact = [k for k in known if k.lower() == needle]
        matches = exact or [k for k in known if needle and needle in k.lower()]
        if not matches:
            hint = ", ".join(known[:12]) or "none yet: ingest some documents first"
            raise UnknownFilterValue(f"no {what} matches {name!r}; known {what}s include: {hint}")
        found.extend(m for m in matches if m not in found)
    return found
