"""`rag backup DIR` / `rag restore DIR`: the SQLite store and the Qdrant Edge shard, copied together
(with the web page's `uploads/` folder when there is one).

Backup runs under the writer lock: the store is copied with SQLite's online backup API, the
shard is flushed, closed, copied folder and all, and opened again (Qdrant Edge has no
snapshot writer of its own: its snapshot calls read snapshots made by a Qdrant server). The
copy is made in a hidden sibling folder, checked (the copied index is opened and its point ids
compared with the copied store's chunks), listed with sha256 sums in `backup.json`, and only
then renamed to DIR, so an interrupted backup never looks complete.

With a Qdrant server (`--qdrant-url`) only the store is saved: the store is canonical and
`rag reindex` rebuilds the collection from it (or use the server's own snapshots).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.models.model_files import sha256_of
from rag.settings import Settings
from rag.store.lock import LOCK_FILES, index_lock, writer_lock

if TYPE_CHECKING:
    from rag.index.backends import VectorStore
    from rag.index.sparse import Bm25Encoder
    from rag.models.embedding import Embedder
    from rag.store.lock import FileLock
    from rag.store.store import Store

MANIFEST = "backup.json"
STORE_FILE = "store.sqlite3"
INDEX_DIR = "qdrant-edge"
UPLOADS_DIR = "uploads"  # files added through the web page: copied along when present
FORMAT = 1


class Backed(Protocol):
    """What a backup reads of an open collection (a `Library`): its settings, writer lock, store
    and vector store (closed and opened again around the copy of the shard)."""

    settings: Settings
    lock_wait: float
    writer_lock: FileLock
    store: Store
    vectors: VectorStore
    embedder: Embedder
    bm25: Bm25Encoder


class BackupError(ValueError):
    """A backup that cannot be made or restored; the message says what to do."""


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256_of(p) for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in (MANIFEST, STORE_FILE + "-wal", STORE_FILE + "-shm")}


def _edge_point_ids(path: Path) -> set[str]:
    import qdrant_edge as q

    shard = q.EdgeShard.load(str(path))
    try:
        ids: set[str] = set()
        offset = None
        while True:
            records, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=1024, with_payload=False,
                                                           with_vector=False))
            ids.update(str(r.id) for r in records)
            if offset is None:
                return ids
    finally:
        shard.close()


def _store_counts(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        return {"documents": one("SELECT COUNT(*) FROM documents"), "chunks": one("SELECT COUNT(*) FROM chunks"),
                "pending": one("SELECT COUNT(*) FROM pending") if _has_table(conn, "pending") else 0,
                "point_ids": {r[0] for r in conn.execute("SELECT point_id FROM chunks")},
                "model": meta.get("embed_model"), "dimension": meta.get("embed_dimension")}
    finally:
        conn.close()


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _is_empty_dir(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


def _data_entries(data_dir: Path) -> list[str]:
    """What makes a data dir non-empty (our own lock files do not count)."""
    if not data_dir.exists():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.name not in LOCK_FILES)


def backup(lib: Backed, dest: Path) -> dict[str, Any]:
    """Write a complete, checked backup of `lib`'s data dir to `dest` (a new or empty folder)."""
    from rag.index.backends import open_vector_store

    dest = Path(dest)
    if not _is_empty_dir(dest):
        raise BackupError(f"{dest} is not empty: give a new folder for the backup")
    settings = lib.settings
    if dest.resolve().is_relative_to(settings.data_dir.resolve()):
        raise BackupError(f"{dest} is inside the data dir {settings.data_dir}: put the backup elsewhere")
    work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    edge = not settings.qdrant_url
    try:
        with lib.writer_lock.hold(lib.lock_wait, "backup"):
            lib.store.backup_to(work / STORE_FILE)
            if (settings.data_dir / UPLOADS_DIR).is_dir():
                shutil.copytree(settings.data_dir / UPLOADS_DIR, work / UPLOADS_DIR)
            if edge:
                lib.vectors.flush()
                lib.vectors.close()
                try:
                    shutil.copytree(settings.edge_path, work / INDEX_DIR)
                finally:
                    lib.vectors = open_vector_store(settings, lib.embedder.dimension, lib.bm25)
        counts = _store_counts(work / STORE_FILE)
        points = None
        if edge:
            ids = _edge_point_ids(work / INDEX_DIR)
            points = len(ids)
            if counts["pending"] == 0 and ids != counts["point_ids"]:
                raise BackupError(f"the copied index ({len(ids)} points) does not match the copied store "
                                  f"({counts['chunks']} chunks): run `rag check --repair`, then back up again")
        manifest = {
            "format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "source": str(settings.data_dir),
            "index": "qdrant-edge" if edge else "none: rebuild with `rag reindex`",
            "documents": counts["documents"], "chunks": counts["chunks"], "points": points,
            "pending": counts["pending"], "model": counts["model"], "dimension": counts["dimension"],
            "files": _files(work),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {k: v for k, v in manifest.items() if k != "files"}


def read_manifest(src: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every listed file against its sha256."""
    path = Path(src) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a backup made by `rag backup` ({MANIFEST} missing or unreadable: "
                          f"{exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: unknown backup format {manifest.get('format')!r}")
    for rel, digest in manifest.get("files", {}).items():
        file = Path(src) / rel
        if not file.is_file() or sha256_of(file) != digest:
            raise BackupError(f"{src}: {rel} is missing or damaged (sha256 differs): use another backup")
    if STORE_FILE not in manifest.get("files", {}):
        raise BackupError(f"{src}: the backup holds no store")
    return manifest


def restore(src: Path, settings: Settings, force: bool = False, wait: float = 0.0) -> dict[str, Any]:
    """Restore a backup into `settings.data_dir`: refused if the data dir holds anything, unless
    `force`, which moves the present store and index aside (nothing is deleted)."""
    src = Path(src)
    manifest = read_manifest(src)
    data_dir = settings.data_dir
    present = _data_entries(data_dir)
    if present and not force:
        raise BackupError(f"{data_dir} is not empty ({', '.join(present[:5])}): restore into a new "
                          f"--data-dir, or pass --force to replace it (the present files are moved aside)")
    data_dir.mkdir(parents=True, exist_ok=True)
    moved_to = None
    with writer_lock(data_dir).hold(wait, "restore"), index_lock(data_dir).hold(wait, "restore"):
        targets = [data_dir / n for n in (STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", INDEX_DIR,
                                          UPLOADS_DIR)]
        if any(t.exists() for t in targets):
            moved_to = data_dir / time.strftime(".replaced-%Y%m%d-%H%M%S")
            moved_to.mkdir()
            for t in targets:
                if t.exists():
                    t.rename(moved_to / t.name)
        part = data_dir / f".restore-{os.getpid()}"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir()
        source = sqlite3.connect(f"file:{src / STORE_FILE}?mode=ro", uri=True)
        target = sqlite3.connect(str(part / STORE_FILE))
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            source.close()
            target.close()
        for folder in (INDEX_DIR, UPLOADS_DIR):
            if (src / folder).is_dir():
                shutil.copytree(src / folder, part / folder)
                (part / folder).rename(data_dir / folder)
        (part / STORE_FILE).rename(data_dir / STORE_FILE)
        part.rmdir()
    result = {k: v for k, v in manifest.items() if k != "files"}
    result["replaced_moved_to"] = str(moved_to) if moved_to else None
    result["needs_reindex"] = not (src / INDEX_DIR).is_dir() or bool(settings.qdrant_url)
    return result
