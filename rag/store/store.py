"""The canonical store in SQLite: documents with full text and structure, chunks with offsets.

The vector index can always be rebuilt from here (`rag reindex`). The `pending` table is a
write-ahead log for the index: a document is listed there (committed) before its points are
written or deleted, and leaves it in the same transaction that commits its rows, so after a
crash the documents whose points may disagree with the store are known (`rag check`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator, Sequence

from ingest.models import Chunk, Document, Turn

SCHEMA_VERSION = "2"
# Columns added after schema 1, added in place to an older store when it is opened:
# (table, column, declaration).
_ADDED_COLUMNS = [
    ("chunks", "role", "TEXT"),
    ("documents", "source_meta", "TEXT NOT NULL DEFAULT '{}'"),
    ("documents", "parser", "TEXT NOT NULL DEFAULT ''"),
    ("sources", "parser", "TEXT NOT NULL DEFAULT ''"),
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source_path TEXT NOT NULL, format TEXT NOT NULL,
    title TEXT, date TEXT, place TEXT, organisation TEXT, doc_number TEXT, source_url TEXT,
    source TEXT, doc_type TEXT, speakers TEXT NOT NULL, turns TEXT NOT NULL,
    page_starts TEXT NOT NULL, extra TEXT NOT NULL, text TEXT NOT NULL,
    content_hash TEXT NOT NULL, ingested_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source_path);
CREATE TABLE IF NOT EXISTS chunks (
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, point_id TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, turn INTEGER NOT NULL,
    speaker TEXT, is_question INTEGER NOT NULL, page INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX IF NOT EXISTS chunks_speaker ON chunks(speaker);
CREATE INDEX IF NOT EXISTS chunks_speaker_role ON chunks(speaker, is_question);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, since REAL NOT NULL);
"""


class ModelMismatchError(RuntimeError):
    """The data dir was indexed with another embedding model."""


class Store:
    """SQLite file holding documents, chunks, file fingerprints and index settings."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._speakers: tuple[tuple[int, int], list[tuple[str, int]]] | None = None
        self._speaker_rows: tuple[tuple[int, int], list[dict[str, Any]]] | None = None
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self._add_columns()
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' AND value < ?",
                              (SCHEMA_VERSION, SCHEMA_VERSION))

    def _add_columns(self) -> None:
        """Bring a store made by an older version up to this schema (columns only ever added)."""
        for table, column, declaration in _ADDED_COLUMNS:
            present = {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- settings -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A stored setting."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def check_model(self, name: str, dimension: int) -> None:
        """Record the embedding model on first use; refuse another model later."""
        stored, dim = self.get_meta("embed_model"), self.get_meta("embed_dimension")
        if stored is None:
            self.set_meta("embed_model", name)
            self.set_meta("embed_dimension", str(dimension))
            return
        if stored != name or int(dim or 0) != dimension:
            raise ModelMismatchError(
                f"{self.path.parent} was indexed with {stored} ({dim}-d), not {name} ({dimension}-d): "
                f"run `rag reindex --data-dir {self.path.parent}` to rebuild the vectors with {name} "
                f"(or leave $RAG_EMBED_MODEL unset to use the collection's own)"
            )

    def check_index_context(self, context: bool) -> None:
        """Record on first use whether passages are indexed with their context header; refuse
        the other setting later (the vectors would not be comparable)."""
        wanted = "1" if context else "0"
        stored = self.get_meta("index_context")
        if stored is None:
            # a store from before context headers existed holds passages indexed without them
            self.set_meta("index_context", wanted if not self.conn.execute(
                "SELECT 1 FROM chunks LIMIT 1").fetchone() else "0")
            stored = self.get_meta("index_context")
        if stored != wanted:
            have = "with" if stored == "1" else "without"
            raise ModelMismatchError(
                f"{self.path.parent} was indexed {have} passage context headers: run `rag reindex --data-dir "
                f"{self.path.parent}` to rebuild the vectors {'without' if stored == '1' else 'with'} them "
                f"(or set $RAG_INDEX_CONTEXT={stored})")

    def set_model(self, name: str, dimension: int) -> None:
        """Record the model after a reindex."""
        self.set_meta("embed_model", name)
        self.set_meta("embed_dimension", str(dimension))

    # -- files ----------------------------------------------------------------------------
    def source_state(self, path: str) -> sqlite3.Row | None:
        """Size, mtime and hash recorded for a file at its last complete ingest."""
        return self.conn.execute("SELECT * FROM sources WHERE path = ?", (path,)).fetchone()

    def set_source(self, path: str, size: int, mtime_ns: int, sha256: str, parser: str = "") -> None:
        """Record a file as completely ingested (by this version of the structure parser)."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO sources (path, size, mtime_ns, sha256, ingested_at, parser) "
                              "VALUES (?, ?, ?, ?, ?, ?)", (path, size, mtime_ns, sha256, time.time(), parser))

    def doc_ids_for_source(self, path: str) -> set[str]:
        """Documents that came from one file."""
        rows = self.conn.execute("SELECT doc_id FROM documents WHERE source_path = ?", (path,))
        return {r["doc_id"] for r in rows}

    # -- documents ------------------------------------------------------------------------
    def content_hash(self, doc_id: str) -> str | None:
        """The stored content hash of a document, or None if absent."""
        row = self.conn.execute("SELECT content_hash FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row["content_hash"] if row else None

    def put_documents(self, items: list[tuple[Document, str, list[Chunk], list[str]]],
                      keep_pending: bool = False) -> None:
        """Replace documents and their chunks in one transaction: (doc, hash, chunks, point ids);
        the same transaction takes them off the pending list (or puts them on it: `keep_pending`,
        when their points are written afterwards)."""
        now = time.time()
        with self.conn:
            for doc, content_hash, chunks, point_ids in items:
                if keep_pending:
                    self.conn.execute("INSERT OR REPLACE INTO pending VALUES (?, ?)", (doc.doc_id, now))
                else:
                    self.conn.execute("DELETE FROM pending WHERE doc_id = ?", (doc.doc_id,))
                self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc.doc_id,))
                self.conn.execute(
                    "INSERT OR REPLACE INTO documents (doc_id, source_path, format, title, date, place, "
                    "organisation, doc_number, source_url, source, doc_type, speakers, turns, page_starts, "
                    "extra, text, content_hash, ingested_at, source_meta, parser) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, doc.source_path, doc.format, doc.title, doc.date, doc.place,
                     doc.organisation, doc.doc_number, doc.source_url, doc.source, doc.doc_type,
                     json.dumps(doc.speakers), json.dumps([asdict(t) for t in doc.turns]),
                     json.dumps(doc.page_starts), json.dumps(doc.extra, default=str), doc.text,
                     content_hash, now, json.dumps(doc.source_meta, default=str), doc.parser),
                )
                self.conn.executemany(
                    "INSERT INTO chunks (doc_id, idx, point_id, text, char_start, char_end, turn, speaker, "
                    "is_question, page, role) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(c.doc_id, c.index, pid, c.text, c.char_start, c.char_end, c.turn, c.speaker,
                      int(c.is_question), c.page, c.role) for c, pid in zip(chunks, point_ids)],
                )

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and its chunks (and its pending mark); False if it was not stored."""
        with self.conn:
            self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM pending WHERE doc_id = ?", (doc_id,))
            cur = self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return cur.rowcount > 0

    # -- write-ahead log of index writes ----------------------------------------------------
    def mark_pending(self, doc_ids: list[str]) -> None:
        """Commit that the index points of these documents are about to change."""
        now = time.time()
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)", [(d, now) for d in doc_ids])

    def mark_all_pending(self) -> int:
        """Mark every stored document (before the index is rebuilt); returns how many."""
        with self.conn:
            cur = self.conn.execute("INSERT OR REPLACE INTO pending SELECT doc_id, ? FROM documents",
                                    (time.time(),))
        return cur.rowcount

    def pending_doc_ids(self) -> list[str]:
        """Documents whose index writes were started and not committed (an interrupted run)."""
        return [r["doc_id"] for r in self.conn.execute("SELECT doc_id FROM pending ORDER BY doc_id")]

    def clear_pending(self, doc_ids: list[str]) -> None:
        """The index agrees with the store again for these documents."""
        with self.conn:
            self.conn.executemany("DELETE FROM pending WHERE doc_id = ?", [(d,) for d in doc_ids])

    def chunk_rows(self) -> Iterator[sqlite3.Row]:
        """(point_id, doc_id, idx, char_start, char_end) of every chunk, for consistency checks."""
        yield from self.conn.execute("SELECT point_id, doc_id, idx, char_start, char_end FROM chunks")

    def documents_without_chunks(self) -> list[str]:
        """Stored documents that have no chunk rows (nothing of them can be found)."""
        rows = self.conn.execute("SELECT doc_id FROM documents d WHERE NOT EXISTS "
                                 "(SELECT 1 FROM chunks c WHERE c.doc_id = d.doc_id) ORDER BY doc_id")
        return [r["doc_id"] for r in rows]

    def integrity_errors(self) -> list[str]:
        """SQLite's own quick check (empty when the file is sound)."""
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole store in `target` (SQLite's online backup API), as one
        self-contained file (rollback journal, so that no -wal/-shm files go with it)."""
        dest = sqlite3.connect(str(target))
        try:
            self.conn.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()

    def forget_source(self, path: str) -> None:
        """Drop a file's fingerprint so that the next ingest reads it again."""
        with self.conn:
            self.conn.execute("DELETE FROM sources WHERE path = ?", (path,))

    def get_document(self, doc_id: str) -> Document | None:
        """The stored document with its structure, or None."""
        row = self.conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _row_to_document(row) if row else None

    def doc_ids(self) -> list[str]:
        """All document ids, sorted."""
        return [r["doc_id"] for r in self.conn.execute("SELECT doc_id FROM documents ORDER BY doc_id")]

    def chunks(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order."""
        rows = self.conn.execute("SELECT * FROM chunks WHERE doc_id = ? ORDER BY idx", (doc_id,))
        return [_row_to_chunk(r) for r in rows]

    def point_ids(self, doc_id: str) -> list[str]:
        """A document's point ids in chunk order."""
        rows = self.conn.execute("SELECT point_id FROM chunks WHERE doc_id = ? ORDER BY idx", (doc_id,))
        return [r["point_id"] for r in rows]

    def all_point_ids(self) -> set[str]:
        """Every point id the store expects in the index."""
        return {r["point_id"] for r in self.conn.execute("SELECT point_id FROM chunks")}

    def iter_documents(self) -> Iterator[Document]:
        """Every stored document, in id order."""
        for doc_id in self.doc_ids():
            doc = self.get_document(doc_id)
            if doc is not None:
                yield doc

    def texts_containing(self, words: Sequence[str]) -> Iterator[tuple[str, str]]:
        """(doc_id, text) of every document whose stored text contains all the given words
        (ASCII words match case-insensitively, as SQLite's LIKE does; others exactly); every
        document when no word is given. A complete candidate list for an exact phrase scan."""
        sql = "SELECT doc_id, text FROM documents"
        args: list[str] = []
        for word in dict.fromkeys(words):
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        if args:
            sql += " WHERE " + " AND ".join("text LIKE ? ESCAPE '\\'" for _ in args)
        for row in self.conn.execute(sql + " ORDER BY doc_id", args):
            yield row["doc_id"], row["text"]

    # -- overview -------------------------------------------------------------------------
    def _version(self) -> tuple[int, int]:
        """Changes by this connection and commits by any other one (SQLite's data_version)."""
        return self.conn.total_changes, int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def speakers(self) -> list[tuple[str, int]]:
        """Speakers of non-question chunks with their chunk counts, most frequent first.
        Kept until the store changes: every ask and filtered search reads it, and the query
        scans every chunk row (hundreds of ms at a million chunks)."""
        version = self._version()
        if self._speakers is None or self._speakers[0] != version:
            rows = self.conn.execute(
                "SELECT speaker, COUNT(*) AS n FROM chunks WHERE speaker IS NOT NULL AND is_question = 0 "
                "GROUP BY speaker ORDER BY n DESC, speaker")
            self._speakers = (version, [(r["speaker"], r["n"]) for r in rows])
        return list(self._speakers[1])

    def speaker_rows(self) -> list[dict[str, Any]]:
        """Every stored speaker of non-question passages with their roles (comma-joined, a comma
        inside a role written as U+001F),
        passages, documents and first and last date, for the collection's speaker identities (`rag.store.speakers`). Kept until
        the store changes, like `speakers()`."""
        version = self._version()
        if self._speaker_rows is None or self._speaker_rows[0] != version:
            rows = self.conn.execute(
                "SELECT c.speaker AS speaker, GROUP_CONCAT(DISTINCT REPLACE(c.role, ',', char(31))) AS roles, COUNT(*) AS passages, "
                "COUNT(DISTINCT c.doc_id) AS documents, MIN(d.date) AS first, MAX(d.date) AS last "
                "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
                "WHERE c.speaker IS NOT NULL AND c.is_question = 0 GROUP BY c.speaker")
            self._speaker_rows = (version, [dict(r) for r in rows])
        return [dict(r) for r in self._speaker_rows[1]]

    def outdated_documents(self, parser: str) -> list[str]:
        """Documents whose structure was parsed by another parser version than `parser`."""
        rows = self.conn.execute("SELECT doc_id FROM documents WHERE parser != ? ORDER BY doc_id", (parser,))
        return [r["doc_id"] for r in rows]

    def sources(self) -> list[tuple[str, int]]:
        """Source labels with their document counts."""
        rows = self.conn.execute(
            "SELECT COALESCE(source, '') AS s, COUNT(*) AS n FROM documents GROUP BY s ORDER BY n DESC")
        return [(r["s"], r["n"]) for r in rows]

    def stats(self) -> dict[str, Any]:
        """Counts and settings for `rag stats`."""
        one = self.conn.execute
        dates = one("SELECT MIN(date) AS lo, MAX(date) AS hi FROM documents WHERE date IS NOT NULL").fetchone()
        return {
            "documents": one("SELECT COUNT(*) FROM documents").fetchone()[0],
            "chunks": one("SELECT COUNT(*) FROM chunks").fetchone()[0],
            "files": one("SELECT COUNT(*) FROM sources").fetchone()[0],
            "speakers": len(self.speakers()),
            "top_speakers": [{"speaker": s, "chunks": n} for s, n in self.speakers()[:10]],
            "sources": [{"source": s, "documents": n} for s, n in self.sources()],
            "date_min": dates["lo"], "date_max": dates["hi"],
            "model": self.get_meta("embed_model"),
            "dimension": int(self.get_meta("embed_dimension") or 0) or None,
        }


def _row_to_document(row: sqlite3.Row) -> Document:
    return Document(
        doc_id=row["doc_id"], text=row["text"], source_path=row["source_path"], format=row["format"],
        title=row["title"], date=row["date"], place=row["place"], organisation=row["organisation"],
        doc_number=row["doc_number"], source_url=row["source_url"], source=row["source"],
        doc_type=row["doc_type"], speakers=json.loads(row["speakers"]),
        turns=[Turn(**t) for t in json.loads(row["turns"])], page_starts=json.loads(row["page_starts"]),
        extra=json.loads(row["extra"]), source_meta=json.loads(row["source_meta"] or "{}"),
        parser=row["parser"] or "",
    )


def _row_to_chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(doc_id=row["doc_id"], index=row["idx"], text=row["text"], char_start=row["char_start"],
                 char_end=row["char_end"], turn=row["turn"], speaker=row["speaker"],
                 is_question=bool(row["is_question"]), page=row["page"], role=row["role"])
